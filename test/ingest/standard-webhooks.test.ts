import assert from 'node:assert/strict';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import {
  parseStandardWebhooksSecret, signStandardWebhook, standardWebhooksScheme,
} from '../../src/ingest/schemes/standard-webhooks.ts';

// The test vector of the spec's reference libraries: standard-webhooks/standard-webhooks,
// libraries/javascript/src/webhook.test.ts ("sign function works") and
// libraries/python/tests/test_webhooks.py (test_sign_function).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;
// Well-formed v1 and v2 entries that match nothing, from the same tests ("multi sig payload is valid").
const OTHER_V1 = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
const OTHER_V2 = 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

const key = parseKey(VECTOR.secret);
const body = Buffer.from(VECTOR.payload);
const at = (seconds: number) => seconds * 1000;
const scheme = standardWebhooksScheme({ toleranceSeconds: 300 });
const headers = (overrides: IncomingHttpHeaders = {}): IncomingHttpHeaders => ({
  'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature, ...overrides,
});
const verify = (sent: IncomingHttpHeaders, { keys = [key], now = at(VECTOR.timestamp), bytes = body as Uint8Array } = {}) =>
  scheme.verify({ headers: sent, body: bytes, keys, now });

function parseKey(text: string): KeyObject {
  const parsed = parseStandardWebhooksSecret(text);
  assert.ok(parsed !== null, text);
  return parsed;
}

test('signStandardWebhook reproduces the reference libraries\' test vector, and the scheme accepts it', () => {
  assert.deepEqual(signStandardWebhook({ secret: key, id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.payload }), {
    'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature,
  });
  assert.deepEqual(verify(headers()), { ok: true, keyIndex: 0 });
});

test('parseStandardWebhooksSecret accepts whsec_ and base64, or the base64 alone as the reference libraries do', () => {
  assert.equal(key.type, 'secret');
  assert.equal(key.symmetricKeySize, 24);
  assert.ok(key.equals(createSecretKey(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))));
  assert.ok(parseKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').equals(key));
  const long = randomBytes(64);
  assert.ok(parseKey(`whsec_${long.toString('base64')}`).equals(createSecretKey(long)), '64 bytes, padded');
  assert.ok(parseKey(`whsec_${long.toString('base64').replace(/=+$/, '')}`).equals(createSecretKey(long)), 'unpadded');
});

test('parseStandardWebhooksSecret refuses what is not a secret of 24 to 64 bytes in standard base64', () => {
  const refused = [
    '', 'whsec_', 'whsec', 'change-me', `whsec_${randomBytes(23).toString('base64')}`, `whsec_${randomBytes(65).toString('base64')}`,
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS-', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS_', ' whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA',
    'WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  ];
  for (const text of refused) assert.equal(parseStandardWebhooksSecret(text), null, text);
});

test('the timestamp may be as far as the tolerance from now either way, and not one second further', () => {
  const sent = VECTOR.timestamp;
  assert.deepEqual(verify(headers(), { now: at(sent + 300) }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify(headers(), { now: at(sent + 300) + 999 }), { ok: true, keyIndex: 0 }, 'now counts whole seconds');
  assert.deepEqual(verify(headers(), { now: at(sent - 300) }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify(headers(), { now: at(sent + 301) }), { ok: false, reason: 'stale' });
  assert.deepEqual(verify(headers(), { now: at(sent - 301) }), { ok: false, reason: 'stale' });
  const exact = standardWebhooksScheme({ toleranceSeconds: 0 });
  assert.deepEqual(exact.verify({ headers: headers(), body, keys: [key], now: at(sent) + 500 }), { ok: true, keyIndex: 0 });
  assert.deepEqual(exact.verify({ headers: headers(), body, keys: [key], now: at(sent + 1) }), { ok: false, reason: 'stale' });
});

test('a stale request is refused as stale whatever its signature', () => {
  assert.deepEqual(verify(headers({ 'webhook-signature': OTHER_V1 }), { now: at(VECTOR.timestamp + 301) }), { ok: false, reason: 'stale' });
});

test('standardWebhooksScheme refuses a tolerance that is not a whole number of seconds from 0 up', () => {
  for (const toleranceSeconds of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => standardWebhooksScheme({ toleranceSeconds }), RangeError, String(toleranceSeconds));
  }
});

test('one good v1 entry among entries that match nothing, or are of another version, is accepted', () => {
  const list = [OTHER_V1, OTHER_V2, VECTOR.signature, OTHER_V1].join(' ');
  assert.deepEqual(verify(headers({ 'webhook-signature': list })), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify(headers({ 'webhook-signature': `  ${OTHER_V1}   ${VECTOR.signature} ` })), { ok: true, keyIndex: 0 }, 'extra spaces');
  assert.deepEqual(verify(headers({ 'webhook-signature': [OTHER_V1, OTHER_V2, OTHER_V1].join(' ') })), { ok: false, reason: 'mismatch' });
});

test('an entry of another version is never checked, even when its value is the right HMAC', () => {
  const value = VECTOR.signature.slice(3);
  assert.deepEqual(verify(headers({ 'webhook-signature': `v1a,${value}` })), { ok: false, reason: 'malformed' }, 'no v1 entry at all');
  assert.deepEqual(verify(headers({ 'webhook-signature': `v2,${value} ${OTHER_V1}` })), { ok: false, reason: 'mismatch' });
});

test('the signature covers the id, the timestamp and the bytes: changing any of them is a mismatch', () => {
  assert.deepEqual(verify(headers({ 'webhook-id': 'msg_someOtherEvent' })), { ok: false, reason: 'mismatch' });
  const otherId = signStandardWebhook({ secret: key, id: 'msg_someOtherEvent', timestamp: VECTOR.timestamp, body });
  assert.deepEqual(verify(headers({ 'webhook-signature': otherId['webhook-signature'] })), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify(headers({ 'webhook-timestamp': String(VECTOR.timestamp + 1) })), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify(headers(), { bytes: Buffer.from('{"test":2432232314}') }), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify(headers(), { keys: [parseKey(`whsec_${randomBytes(32).toString('base64')}`)] }), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify(headers(), { keys: [] }), { ok: false, reason: 'mismatch' });
});

test('the body is signed as bytes: bytes that are not UTF-8 verify as sent, and not once decoded and re-encoded', () => {
  const raw = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const signed = signStandardWebhook({ secret: key, id: VECTOR.id, timestamp: VECTOR.timestamp, body: raw });
  assert.deepEqual(verify(signed, { bytes: raw }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify(signed, { bytes: Buffer.from(raw.toString('utf8')) }), { ok: false, reason: 'mismatch' });
});

test('a request without one of the three headers is missing a signature', () => {
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const sent = headers();
    delete sent[name];
    assert.deepEqual(verify(sent), { ok: false, reason: 'missing' }, name);
  }
  assert.deepEqual(verify({}), { ok: false, reason: 'missing' });
});

test('malformed headers are refused, never thrown on: ids, timestamps and signature lists out of shape or bounds', () => {
  const cases: IncomingHttpHeaders[] = [
    { 'webhook-id': '' }, { 'webhook-id': 'msg.1' }, { 'webhook-id': 'msg 1' }, { 'webhook-id': `${VECTOR.id}, ${VECTOR.id}` },
    { 'webhook-id': 'x'.repeat(257) }, { 'webhook-id': 'msg_é' }, { 'webhook-id': [VECTOR.id] as unknown as string },
    { 'webhook-timestamp': '' }, { 'webhook-timestamp': 'hello' }, { 'webhook-timestamp': '-1' }, { 'webhook-timestamp': '+1614265330' },
    { 'webhook-timestamp': '1614265330.5' }, { 'webhook-timestamp': '01614265330' }, { 'webhook-timestamp': '1'.repeat(13) },
    { 'webhook-timestamp': '1614265330, 1614265330' },
    { 'webhook-signature': '' }, { 'webhook-signature': '   ' }, { 'webhook-signature': 'v1,' }, { 'webhook-signature': 'v1' },
    { 'webhook-signature': ',abc' }, { 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }, { 'webhook-signature': VECTOR.signature.slice(0, 8) },
    { 'webhook-signature': `${VECTOR.signature},` }, { 'webhook-signature': `${VECTOR.signature}, ${OTHER_V1}` },
    { 'webhook-signature': `v1,${Buffer.alloc(32, 0xfb).toString('base64url')}=` }, { 'webhook-signature': `v1,${Buffer.alloc(33).toString('base64')}` },
    { 'webhook-signature': `${VECTOR.signature} ${OTHER_V1} x` }, { 'webhook-signature': Array(17).fill(VECTOR.signature).join(' ') },
    { 'webhook-signature': `${VECTOR.signature} v2,${'A'.repeat(4096)}` }, { 'webhook-signature': [VECTOR.signature] as unknown as string },
  ];
  for (const overrides of cases) assert.deepEqual(verify(headers(overrides)), { ok: false, reason: 'malformed' }, JSON.stringify(overrides));
  const sixteen = Array(15).fill(OTHER_V1).concat(VECTOR.signature).join(' ');
  assert.deepEqual(verify(headers({ 'webhook-signature': sixteen })), { ok: true, keyIndex: 0 }, 'sixteen entries are within bounds');
});

test('while secrets rotate, the key that matched is named, and a sender may sign with both', () => {
  const next = parseKey(`whsec_${randomBytes(32).toString('base64')}`);
  assert.deepEqual(verify(headers(), { keys: [next, key] }), { ok: true, keyIndex: 1 });
  const byNext = signStandardWebhook({ secret: next, id: VECTOR.id, timestamp: VECTOR.timestamp, body });
  const both = `${VECTOR.signature} ${byNext['webhook-signature']}`;
  assert.deepEqual(verify(headers({ 'webhook-signature': both }), { keys: [next] }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify(headers({ 'webhook-signature': both }), { keys: [next, key] }), { ok: true, keyIndex: 1 });
});
