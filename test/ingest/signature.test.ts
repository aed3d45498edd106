import assert from 'node:assert/strict';
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { signBody, xSignatureScheme } from '../../src/ingest/schemes/x-signature.ts';

const secret = 'k';
const key = createSecretKey(Buffer.from(secret));
const body = Buffer.from('{"a":1}');
const good = createHmac('sha256', secret).update(body).digest('hex');

const verify = (headers: IncomingHttpHeaders, bytes: Buffer = body, keys: KeyObject[] = [key]) =>
  xSignatureScheme.verify({ headers, body: bytes, keys, now: 0 });

test('signBody is the lowercase hex HMAC-SHA256 of the bytes', () => {
  assert.equal(signBody(secret, body), good);
  assert.match(good, /^[0-9a-f]{64}$/);
});

test('X-Signature accepts the exact signature, also in upper case or padded by spaces', () => {
  assert.deepEqual(verify({ 'x-signature': good }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify({ 'x-signature': good.toUpperCase() }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify({ 'x-signature': ` ${good} ` }), { ok: true, keyIndex: 0 });
});

test('X-Signature refuses, never throws, every missing or malformed header, and says which', () => {
  assert.deepEqual(verify({}), { ok: false, reason: 'missing' });
  const candidates: unknown[] = ['', 'x', good.slice(1), good + '0', `sha256=${good}`, 'g'.repeat(64), [good, good], '\u0000'.repeat(64)];
  for (const header of candidates) {
    assert.deepEqual(verify({ 'x-signature': header as string }), { ok: false, reason: 'malformed' }, String(header));
  }
});

test('X-Signature compares every byte of the digest: one changed digit anywhere is refused', () => {
  for (let position = 0; position < 64; position++) {
    const digit = good[position] === '0' ? '1' : '0';
    const changed = good.slice(0, position) + digit + good.slice(position + 1);
    assert.deepEqual(verify({ 'x-signature': changed }), { ok: false, reason: 'mismatch' }, `digit ${position}`);
  }
});

test('X-Signature refuses a signature of other bytes or under another secret', () => {
  assert.deepEqual(verify({ 'x-signature': good }, Buffer.from('{"a": 1}')), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify({ 'x-signature': signBody('other', body) }), { ok: false, reason: 'mismatch' });
});

test('X-Signature names the position of the key that matched, among several', () => {
  const keys = [createSecretKey(Buffer.from('old')), createSecretKey(Buffer.from('new')), key];
  assert.deepEqual(verify({ 'x-signature': good }, body, keys), { ok: true, keyIndex: 2 });
  assert.deepEqual(verify({ 'x-signature': signBody('new', body) }, body, keys), { ok: true, keyIndex: 1 });
  assert.deepEqual(verify({ 'x-signature': good }, body, []), { ok: false, reason: 'mismatch' });
});
