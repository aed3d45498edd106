// The startup phase: the startup message, authentication, then the server's parameters and key
// data until the first ReadyForQuery. Against a server that is not what it claims:
// - SCRAM-SHA-256 is the one method we run. With `requireScram` (the default), a server that lets
//   us in without it (trust) is refused: SCRAM's server signature is what proves the server knows
//   our verifier, and without it anyone able to answer on that address could pose as the database.
// - AuthenticationOk in the middle of SCRAM, before the server signature was checked, is refused.
// - A cleartext password is only sent over TLS with verify-full and when requireScram is off: over
//   a cleartext or unverified connection it would hand the password to whoever answered.
// - MD5 is always refused: the hash it sends is as good as the password, it proves nothing about
//   the server, and PostgreSQL deprecates it.
// - client_encoding and server_encoding must be UTF8: we send and read UTF-8 text, and a server
//   that converts (or, as SQL_ASCII, does not check) would alter or refuse some of it.
import { decodeAuthentication, decodeBackendKeyData, decodeFields, decodeParameterStatus, decodeReadyForQuery, decodeSaslMechanisms } from './backend.ts';
import type { TransactionStatus } from './backend.ts';
import { passwordMessage, saslInitialResponse, saslResponse, startupMessage } from './frontend.ts';
import type { Inbox } from './inbox.ts';
import { PgClientError } from './pg-client-error.ts';
import { noticeFromFields, pgErrorFromFields, type PgNotice } from './pg-error.ts';
import { clientFinal, clientFirst, newNonce, parseServerFirst, saltPassword, SCRAM_MECHANISM, verifyServerFinal, type ClientFirst } from './scram.ts';

export type StartupOptions = {
  user: string;
  database: string;
  password: string | null;
  applicationName: string | null;
  /** Extra startup parameters, such as { options: '-c statement_timeout=5s' }. */
  parameters: Readonly<Record<string, string>>;
  requireScram: boolean;
  /** TLS with the certificate and host name verified. */
  verified: boolean;
  onNotice: ((notice: PgNotice) => void) | null;
};

export type Session = {
  processId: number | null;
  secretKey: number | null;
  parameters: Map<string, string>;
  status: TransactionStatus;
};

/** Parameter names we set ourselves, or that would change what the connection is. */
const RESERVED = new Set(['user', 'database', 'client_encoding', 'replication', 'application_name']);
/** Enough for every parameter a server reports; names beyond it are not kept. */
const MAX_PARAMETERS = 64;

const refuse = (detail: string) => new PgClientError('auth_refused', detail);
const violation = (detail: string) => new PgClientError('protocol_violation', detail);

export async function startSession(inbox: Inbox, send: (bytes: Buffer) => void, options: StartupOptions): Promise<Session> {
  const pairs: [string, string][] = [['user', options.user], ['database', options.database], ['client_encoding', 'UTF8']];
  if (options.applicationName !== null) pairs.push(['application_name', options.applicationName]);
  for (const [name, value] of Object.entries(options.parameters)) {
    if (RESERVED.has(name) || !/^[A-Za-z][A-Za-z0-9_.]*$/.test(name)) {
      throw new PgClientError('invalid_options', 'a startup parameter name is reserved or malformed');
    }
    pairs.push([name, value]);
  }
  send(startupMessage(pairs));
  await authenticate(inbox, send, options);

  const session: Session = { processId: null, secretKey: null, parameters: new Map(), status: 'idle' };
  for (;;) {
    const message = await inbox.next();
    if (message.type === 'K') {
      const key = decodeBackendKeyData(message.body);
      session.processId = key.processId;
      session.secretKey = key.secretKey;
    } else if (message.type === 'S') {
      const refused = applyParameterStatus(session.parameters, message.body);
      if (refused !== null) throw refused;
    } else if (message.type === 'N') {
      deliverNotice(message.body, options.onNotice);
    } else if (message.type === 'E') {
      throw serverError(message.body);
    } else if (message.type === 'Z') {
      session.status = decodeReadyForQuery(message.body);
      if (session.parameters.get('client_encoding') !== 'UTF8' || session.parameters.get('server_encoding') !== 'UTF8') {
        throw violation('the server did not report UTF8 client and server encodings');
      }
      return session;
    } else {
      throw violation('an unexpected message during startup');
    }
  }
}

async function authenticate(inbox: Inbox, send: (bytes: Buffer) => void, options: StartupOptions): Promise<void> {
  let scram: { first: ClientFirst; expected: Buffer | null; verified: boolean } | null = null;
  for (;;) {
    const message = await inbox.next();
    if (message.type === 'E') throw serverError(message.body);
    if (message.type === 'N') {
      deliverNotice(message.body, options.onNotice);
      continue;
    }
    if (message.type !== 'R') throw violation('an unexpected message during authentication');
    const { code, data } = decodeAuthentication(message.body);
    if (code === 0) {
      if (scram !== null && !scram.verified) throw refuse('the server let us in before proving itself');
      if (scram === null && options.requireScram) throw refuse('the server let us in without SCRAM, which is required');
      return;
    } else if (code === 3) {
      if (!options.verified || options.requireScram) throw refuse('the server asked for a cleartext password');
      if (options.password === null) throw refuse('the server asked for a password and none is set');
      send(passwordMessage(options.password));
    } else if (code === 5) {
      throw refuse('the server asked for MD5, which is never used');
    } else if (code === 10) {
      if (scram !== null) throw violation('a second SASL request');
      if (!decodeSaslMechanisms(data).includes(SCRAM_MECHANISM)) throw refuse('the server does not offer SCRAM-SHA-256');
      if (options.password === null) throw refuse('the server asked for a password and none is set');
      scram = { first: clientFirst(newNonce()), expected: null, verified: false };
      send(saslInitialResponse(SCRAM_MECHANISM, Buffer.from(scram.first.message, 'utf8')));
    } else if (code === 11) {
      if (scram === null || scram.expected !== null || options.password === null) throw violation('a SASL continue out of turn');
      const serverFirst = parseServerFirst(data.toString('latin1'), scram.first.nonce);
      if (!serverFirst.ok) throw refuse(serverFirst.error);
      const salted = await saltPassword(options.password, serverFirst.value.salt, serverFirst.value.iterations);
      const final = clientFinal(scram.first, serverFirst.value, salted);
      scram.expected = final.serverSignature;
      send(saslResponse(Buffer.from(final.message, 'utf8')));
    } else if (code === 12) {
      if (scram === null || scram.expected === null || scram.verified) throw violation('a SASL final out of turn');
      const checked = verifyServerFinal(data.toString('latin1'), scram.expected);
      if (!checked.ok) throw refuse(checked.error);
      scram.verified = true;
    } else {
      throw new PgClientError('unsupported', 'an authentication method other than SCRAM-SHA-256');
    }
  }
}

/**
 * Records a ParameterStatus (at startup or later: a SET sends one). Returns the error that ends
 * the connection when client_encoding or server_encoding is anything but UTF8.
 */
export function applyParameterStatus(parameters: Map<string, string>, body: Buffer): PgClientError | null {
  const { name, value } = decodeParameterStatus(body);
  if ((name === 'client_encoding' || name === 'server_encoding') && value !== 'UTF8') {
    return violation(`${name} is not UTF8`);
  }
  if (parameters.has(name) || parameters.size < MAX_PARAMETERS) parameters.set(name, value);
  return null;
}

export function serverError(body: Buffer): Error {
  return pgErrorFromFields(decodeFields(body)) ?? violation('an error without a valid SQLSTATE');
}

/** Hands a notice to the callback. A callback that throws must not break the protocol state. */
export function deliverNotice(body: Buffer, onNotice: ((notice: PgNotice) => void) | null): void {
  const notice = noticeFromFields(decodeFields(body));
  if (notice === null) throw violation('a notice without a valid SQLSTATE');
  if (onNotice === null) return;
  try {
    onNotice(notice);
  } catch {
    // The caller's bug, not the connection's: the next message must still be read.
  }
}
