import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientFinal, clientFirst, ITERATIONS, newNonce, parseServerFirst, saltPassword, verifyServerFinal } from '../../../src/store/postgres/wire/scram.ts';

// RFC 7677, section 3: user "user", password "pencil".
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

async function rfcExchange() {
  const first = clientFirst(CLIENT_NONCE, 'user');
  const server = parseServerFirst(SERVER_FIRST, CLIENT_NONCE);
  assert.ok(server.ok);
  const salted = await saltPassword('pencil', server.value.salt, server.value.iterations);
  return { first, final: clientFinal(first, server.value, salted) };
}

test('the RFC 7677 example exchange gives the exact client-final message and server signature', async () => {
  const { first, final } = await rfcExchange();
  assert.equal(first.message, 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  assert.equal(final.message, CLIENT_FINAL);
  assert.equal(final.serverSignature.toString('base64'), SERVER_FINAL.slice(2));
  assert.deepEqual(verifyServerFinal(SERVER_FINAL, final.serverSignature), { ok: true, value: null });
});

test('the client announces no channel binding and an empty user name, as PostgreSQL expects', () => {
  const first = clientFirst('abc');
  assert.equal(first.message, 'n,,n=,r=abc');
  assert.equal(clientFirst('x', 'a,b=c').bare, 'n=a=2Cb=3Dc,r=x');
});

test('a server signature that differs in one bit, or has another length, is refused', async () => {
  const { final } = await rfcExchange();
  const flipped = Buffer.from(final.serverSignature);
  flipped[31] = (flipped[31] as number) ^ 1;
  assert.deepEqual(verifyServerFinal(`v=${flipped.toString('base64')}`, final.serverSignature), { ok: false, error: 'the server signature does not match' });
  assert.equal(verifyServerFinal(`v=${flipped.subarray(0, 16).toString('base64')}`, final.serverSignature).ok, false);
  assert.deepEqual(verifyServerFinal('e=invalid-proof', final.serverSignature), { ok: false, error: 'the server reported a SCRAM error' });
  assert.equal(verifyServerFinal('x=1', final.serverSignature).ok, false);
});

test('a server nonce that does not extend the client nonce, or only repeats it, is refused', () => {
  const refused = { ok: false, error: 'the server nonce does not extend the client nonce' };
  assert.deepEqual(parseServerFirst(SERVER_FIRST.replace('r=rOpr', 'r=xOpr'), CLIENT_NONCE), refused);
  assert.deepEqual(parseServerFirst(`r=${CLIENT_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, CLIENT_NONCE), refused);
  assert.deepEqual(parseServerFirst(`r=${CLIENT_NONCE}ab,c,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, CLIENT_NONCE).ok, false);
});

test('iteration counts below 4096 or above a million are refused', () => {
  const withCount = (count: string) => parseServerFirst(SERVER_FIRST.replace('i=4096', `i=${count}`), CLIENT_NONCE);
  for (const count of ['1', '4095', '1000001', '99999999999', '-4096', '4096.5', '']) {
    assert.deepEqual(withCount(count), { ok: false, error: 'the iteration count is out of bounds' }, count);
  }
  assert.equal(ITERATIONS.max, 1_000_000);
  const highest = withCount('1000000');
  assert.ok(highest.ok && highest.value.iterations === 1_000_000);
});

test('a malformed server-first message, a bad salt or a mandatory extension is refused', () => {
  assert.equal(parseServerFirst('s=W22ZaJ0SNY7soEsUEjb6gQ==,r=x,i=4096', 'x').ok, false);
  assert.deepEqual(parseServerFirst(SERVER_FIRST.replace('s=W22ZaJ0SNY7soEsUEjb6gQ==', 's=not base64!'), CLIENT_NONCE), { ok: false, error: 'the salt is not base64' });
  assert.deepEqual(parseServerFirst(`m=ext,${SERVER_FIRST}`, CLIENT_NONCE), { ok: false, error: 'the server asked for a mandatory SCRAM extension' });
  assert.equal(parseServerFirst(`${SERVER_FIRST}\u00e9`, CLIENT_NONCE).ok, false);
});

test('client nonces are fresh, printable and free of commas', () => {
  const nonces = new Set(Array.from({ length: 50 }, () => newNonce()));
  assert.equal(nonces.size, 50);
  for (const nonce of nonces) assert.match(nonce, /^[\x21-\x2b\x2d-\x7e]{24}$/);
});
