import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signBody, verifyWebhook } from '../src/signature.ts';

const secret = 'k';
const body = Buffer.from('{"a":1}');
const good = createHmac('sha256', secret).update(body).digest('hex');

test('signBody is the lowercase hex HMAC-SHA256 of the bytes', () => {
  assert.equal(signBody(secret, body), good);
  assert.match(good, /^[0-9a-f]{64}$/);
});

test('verifyWebhook accepts the exact signature, also in upper case or padded by spaces', () => {
  assert.equal(verifyWebhook({ 'x-signature': good }, body, secret), true);
  assert.equal(verifyWebhook({ 'x-signature': good.toUpperCase() }, body, secret), true);
  assert.equal(verifyWebhook({ 'x-signature': ` ${good} ` }, body, secret), true);
});

test('verifyWebhook returns false, never throws, for every malformed header', () => {
  const candidates: unknown[] = [undefined, '', 'x', good.slice(1), good + '0', `sha256=${good}`, 'g'.repeat(64), [good, good], '\u0000'.repeat(64)];
  for (const header of candidates) {
    assert.equal(verifyWebhook({ 'x-signature': header as string }, body, secret), false, String(header));
  }
});

test('verifyWebhook compares every byte of the digest: one changed digit anywhere is refused', () => {
  for (let position = 0; position < 64; position++) {
    const digit = good[position] === '0' ? '1' : '0';
    const changed = good.slice(0, position) + digit + good.slice(position + 1);
    assert.equal(verifyWebhook({ 'x-signature': changed }, body, secret), false, `digit ${position}`);
  }
});

test('verifyWebhook rejects a signature of other bytes or under another secret', () => {
  assert.equal(verifyWebhook({ 'x-signature': good }, Buffer.from('{"a": 1}'), secret), false);
  assert.equal(verifyWebhook({ 'x-signature': signBody('other', body) }, body, secret), false);
});
