import assert from 'node:assert/strict';
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { hubSignatureScheme, signHubBody } from '../../src/ingest/schemes/hub-signature.ts';
import { messagesNotification, metaJson, signedWhatsApp, textMessage } from '../support/whatsapp-payloads.ts';

const appSecret = 'app-secret-from-the-dashboard';
const key = createSecretKey(Buffer.from(appSecret));
// "Grüße aus Köln 😀, https://example.com/x" as Meta sends it: escaped non-ASCII, escaped slashes.
const sent = metaJson(messagesNotification(textMessage('Grüße aus Köln \u{1F600}, https://example.com/x')));
const body = Buffer.from(sent);
const good = signHubBody(appSecret, body);

const verify = (headers: IncomingHttpHeaders, bytes: Uint8Array = body, keys: KeyObject[] = [key]) =>
  hubSignatureScheme.verify({ headers, body: bytes, keys, now: 0 });

test('signHubBody is sha256= and the lowercase hex HMAC-SHA256 of the bytes, keyed by the app secret', () => {
  assert.equal(good, `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`);
  assert.match(good, /^sha256=[0-9a-f]{64}$/);
  assert.equal(signHubBody(key, sent), good, 'a KeyObject and a string body sign the same');
});

test('X-Hub-Signature-256 accepts the signature of the body exactly as Meta sent it', () => {
  assert.ok(sent.includes('Gr\\u00fc\\u00dfe aus K\\u00f6ln \\ud83d\\ude00, https:\\/\\/example.com\\/x'), sent);
  assert.deepEqual(verify({ 'x-hub-signature-256': good }), { ok: true, keyIndex: 0 });
  assert.deepEqual(verify({ 'x-hub-signature-256': `sha256=${good.slice(7).toUpperCase()}` }), { ok: true, keyIndex: 0 });
  const fixture = signedWhatsApp(messagesNotification(textMessage('hi')), appSecret);
  assert.deepEqual(verify(fixture.headers, Buffer.from(fixture.body)), { ok: true, keyIndex: 0 });
});

test('X-Hub-Signature-256 refuses the same notification re-serialised: the signature is over bytes, not JSON', () => {
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(sent)));
  assert.deepEqual(JSON.parse(reserialised.toString()), JSON.parse(sent), 'the same value');
  assert.notDeepEqual(reserialised, body, 'other bytes');
  assert.deepEqual(verify({ 'x-hub-signature-256': good }, reserialised), { ok: false, reason: 'mismatch' });
});

test('X-Hub-Signature-256 refuses a signature made with another app secret, and one of other bytes', () => {
  assert.deepEqual(verify({ 'x-hub-signature-256': signHubBody('another-app', body) }), { ok: false, reason: 'mismatch' });
  const changed = Buffer.from(body);
  changed.writeUInt8(changed.readUInt8(changed.length - 2) ^ 1, changed.length - 2);
  assert.deepEqual(verify({ 'x-hub-signature-256': good }, changed), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verify({ 'x-hub-signature-256': good }, body, []), { ok: false, reason: 'mismatch' });
});

test('X-Hub-Signature-256 compares every digit: one changed anywhere is refused', () => {
  for (let position = 7; position < good.length; position++) {
    const digit = good[position] === '0' ? '1' : '0';
    const changed = good.slice(0, position) + digit + good.slice(position + 1);
    assert.deepEqual(verify({ 'x-hub-signature-256': changed }), { ok: false, reason: 'mismatch' }, `digit ${position}`);
  }
});

test('X-Hub-Signature-256 says missing without the header, and never reads X-Signature or the SHA-1 header instead', () => {
  assert.deepEqual(verify({}), { ok: false, reason: 'missing' });
  assert.deepEqual(verify({ 'x-signature': good.slice(7), 'x-hub-signature': good }), { ok: false, reason: 'missing' });
});

test('X-Hub-Signature-256 refuses, never throws, every malformed value: wrong prefix, shape, or a repeated header', () => {
  const hex = good.slice(7);
  const sha1 = `sha1=${createHmac('sha1', appSecret).update(body).digest('hex')}`;
  const candidates: unknown[] = [
    '', 'sha256=', hex, `SHA256=${hex}`, `sha256:${hex}`, `sha256 =${hex}`, `sha256=${hex.slice(1)}`, `sha256=${hex}0`,
    `sha256=${'g'.repeat(64)}`, sha1, `${good}, ${good}`, [good, good], `sha256=${hex.slice(0, 32)} ${hex.slice(32)}`,
  ];
  for (const header of candidates) {
    assert.deepEqual(verify({ 'x-hub-signature-256': header as string }), { ok: false, reason: 'malformed' }, String(header));
  }
});

test('X-Hub-Signature-256 names the app secret that matched while one is rotated', () => {
  const keys = [createSecretKey(Buffer.from('old-app-secret')), key];
  assert.deepEqual(verify({ 'x-hub-signature-256': good }, body, keys), { ok: true, keyIndex: 1 });
  assert.deepEqual(verify({ 'x-hub-signature-256': signHubBody('old-app-secret', body) }, body, keys), { ok: true, keyIndex: 0 });
});
