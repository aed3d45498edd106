import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifySubscription } from '../../src/ingest/whatsapp-handshake.ts';

const TOKEN = 'meatyhamhock';
// The request Meta documents (Graph API, Webhooks, Getting Started > Verification Requests).
const META_QUERY = `hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${TOKEN}`;
const verify = (query: string, tokens: readonly string[] = [TOKEN]) => verifySubscription(new URLSearchParams(query), tokens);

test('the handshake with the configured verify token echoes the challenge, unchanged', () => {
  assert.deepEqual(verify(META_QUERY), { ok: true, challenge: '1158201444' });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=0012&hub.verify_token=meatyhamhock'), { ok: true, challenge: '0012' });
  const huge = '9'.repeat(64);
  assert.deepEqual(verify(`hub.mode=subscribe&hub.challenge=${huge}&hub.verify_token=${TOKEN}`), { ok: true, challenge: huge });
});

test('a token is compared whole, after the percent-decoding of the query', () => {
  const token = 'tok en+/&=é';
  const query = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.challenge': '42', 'hub.verify_token': token }).toString();
  assert.deepEqual(verify(query, [token]), { ok: true, challenge: '42' });
  for (const offered of ['meatyhamhoc', 'meatyhamhockk', 'MEATYHAMHOCK', ' meatyhamhock', '']) {
    assert.deepEqual(verify(`hub.mode=subscribe&hub.challenge=1&hub.verify_token=${encodeURIComponent(offered)}`), { ok: false }, offered);
  }
});

test('a wrong or absent verify token is refused', () => {
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess'), { ok: false });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=1158201444'), { ok: false });
});

test('only the subscribe mode is answered', () => {
  for (const mode of ['unsubscribe', 'Subscribe', 'subscribe ', '']) {
    assert.deepEqual(verify(`hub.mode=${encodeURIComponent(mode)}&hub.challenge=1&hub.verify_token=${TOKEN}`), { ok: false }, mode);
  }
  assert.deepEqual(verify(`hub.challenge=1&hub.verify_token=${TOKEN}`), { ok: false });
});

test('a missing, empty, oversized or non-numeric challenge is refused, so nothing but digits is ever echoed', () => {
  const challenges = ['', '9'.repeat(65), '-1', '+1', '1.5', '1e9', ' 1', '1 ', '0x1f', '<script>', 'abc', '１２', '1\r\nSet-Cookie: a=b'];
  for (const challenge of challenges) {
    const query = `hub.mode=subscribe&hub.challenge=${encodeURIComponent(challenge)}&hub.verify_token=${TOKEN}`;
    assert.deepEqual(verify(query), { ok: false }, JSON.stringify(challenge));
  }
  assert.deepEqual(verify(`hub.mode=subscribe&hub.verify_token=${TOKEN}`), { ok: false });
});

test('a parameter given twice is refused: which value counts would be a guess', () => {
  assert.deepEqual(verify(`${META_QUERY}&hub.verify_token=guess`), { ok: false });
  assert.deepEqual(verify(`${META_QUERY}&hub.challenge=2`), { ok: false });
  assert.deepEqual(verify(`${META_QUERY}&hub.mode=subscribe`), { ok: false });
});

test('while the verify token is rotated, either configured token is accepted', () => {
  const tokens = ['old-token', TOKEN];
  assert.deepEqual(verify(META_QUERY, tokens), { ok: true, challenge: '1158201444' });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=7&hub.verify_token=old-token', tokens), { ok: true, challenge: '7' });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=7&hub.verify_token=other', tokens), { ok: false });
});

test('without a configured token nothing verifies, not even an empty token against an empty configuration', () => {
  assert.deepEqual(verify(META_QUERY, []), { ok: false });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=1&hub.verify_token=', ['']), { ok: false });
  assert.deepEqual(verify('hub.mode=subscribe&hub.challenge=1', ['']), { ok: false });
});
