// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), as PostgreSQL runs it inside SASL
// messages. Pure steps, so each check can be tested with fixed bytes; the connection drives them.
// What each check defends against:
// - the server's nonce must extend ours: otherwise a replayed or forged exchange could pass;
// - the iteration count must be within ITERATIONS: a low count (a man in the middle on a cleartext
//   connection can choose it) makes our proof cheap to brute-force offline, a huge one is a CPU DoS;
// - the server's final signature is checked, in constant time, before anything else is trusted:
//   it proves the server knows the verifier, so an impostor cannot just answer "OK".
// The gs2 header is "n,,": we do no channel binding and say so (never "y", which claims the server
// could not do it, nor "p"), and the caller picks SCRAM-SHA-256, never the -PLUS variant.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { preparePassword } from './saslprep.ts';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const GS2_HEADER = 'n,,';
/** RFC 7677 asks for at least 4096 (PostgreSQL's default); a million takes about a second. */
export const ITERATIONS = { min: 4096, max: 1_000_000 } as const;

export type ScramResult<T> = { ok: true; value: T } | { ok: false; error: string };

export type ClientFirst = { nonce: string; bare: string; message: string };
export type ServerFirst = { text: string; nonce: string; salt: Buffer; iterations: number };
export type ClientFinal = { message: string; serverSignature: Buffer };

/** 18 random bytes, as libpq uses; base64 has no ',' so it is a valid nonce as it is. */
export const newNonce = (): string => randomBytes(18).toString('base64');

/**
 * PostgreSQL ignores the SCRAM user name (the startup message's user is the one that counts), so
 * the connection sends an empty one, as libpq does; `user` exists for the RFC's test vectors.
 */
export function clientFirst(nonce: string, user = ''): ClientFirst {
  const name = user.replace(/=/g, '=3D').replace(/,/g, '=2C');
  const bare = `n=${name},r=${nonce}`;
  return { nonce, bare, message: GS2_HEADER + bare };
}

const PRINTABLE_NO_COMMA = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const fail = (error: string) => ({ ok: false, error }) as const;

/** server-first-message: "r=<nonce>,s=<salt>,i=<count>", optionally followed by extensions. */
export function parseServerFirst(text: string, clientNonce: string): ScramResult<ServerFirst> {
  if (!/^[\x20-\x7e]*$/.test(text)) return fail('the server-first message is not printable ASCII');
  const [r, s, i] = text.split(',');
  if (r?.startsWith('m=')) return fail('the server asked for a mandatory SCRAM extension');
  if (r === undefined || !r.startsWith('r=') || s === undefined || !s.startsWith('s=') || i === undefined || !i.startsWith('i=')) {
    return fail('the server-first message is malformed');
  }
  const nonce = r.slice(2);
  if (!PRINTABLE_NO_COMMA.test(nonce) || !nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    return fail('the server nonce does not extend the client nonce');
  }
  const saltText = s.slice(2);
  if (saltText === '' || !BASE64.test(saltText)) return fail('the salt is not base64');
  const iterationText = i.slice(2);
  const iterations = /^\d{1,10}$/.test(iterationText) ? Number(iterationText) : Number.NaN;
  if (!(iterations >= ITERATIONS.min && iterations <= ITERATIONS.max)) return fail('the iteration count is out of bounds');
  return { ok: true, value: { text, nonce, salt: Buffer.from(saltText, 'base64'), iterations } };
}

/** SaltedPassword := Hi(Normalize(password), salt, i); run on the thread pool, not the event loop. */
export function saltPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(preparePassword(password), salt, iterations, 32, 'sha256', (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** client-final-message with its proof, and the server signature that the server's answer must carry. */
export function clientFinal(first: ClientFirst, server: ServerFirst, saltedPassword: Buffer): ClientFinal {
  const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${server.nonce}`;
  const authMessage = `${first.bare},${server.text},${withoutProof}`;
  const clientKey = hmac(saltedPassword, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let index = 0; index < proof.length; index++) proof[index] = (clientKey[index] as number) ^ (clientSignature[index] as number);
  const serverSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature };
}

/** server-final-message: "v=<signature>" must match, compared in constant time; "e=..." is a refusal. */
export function verifyServerFinal(text: string, expected: Buffer): ScramResult<null> {
  if (text.startsWith('e=')) return fail('the server reported a SCRAM error');
  const signature = /^v=([A-Za-z0-9+/=]+)(?:,|$)/.exec(text)?.[1];
  if (signature === undefined || !BASE64.test(signature)) return fail('the server-final message is malformed');
  const received = Buffer.from(signature, 'base64');
  // timingSafeEqual needs equal lengths; the length of a SHA-256 signature is no secret.
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return fail('the server signature does not match');
  }
  return { ok: true, value: null };
}
