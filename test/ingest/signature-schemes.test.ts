// What every signature scheme promises (signature-scheme.ts), proven once against each: the key
// that matched is named, anything else is refused with a reason, and no header value makes one throw.
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import type { SignatureScheme } from '../../src/ingest/signature-scheme.ts';
import { hubSignatureScheme, signHubBody } from '../../src/ingest/schemes/hub-signature.ts';
import { signStandardWebhook, standardWebhooksScheme } from '../../src/ingest/schemes/standard-webhooks.ts';
import { signBody, xSignatureScheme } from '../../src/ingest/schemes/x-signature.ts';

type SchemeUnderTest = {
  name: string;
  scheme: SignatureScheme;
  headerNames: readonly string[];
  /** Three distinct keys; `sign(i, body)` signs with the i-th. */
  keys: readonly KeyObject[];
  sign(keyIndex: number, body: Uint8Array): IncomingHttpHeaders;
  now: number;
};

const SENT_AT = 1_736_935_200;
const secrets = [randomBytes(32), randomBytes(32), randomBytes(32)];
const keys = secrets.map((secret) => createSecretKey(secret));
const secretAt = (index: number): Buffer => secrets[index] ?? assert.fail(`no secret ${index}`);
const keyAt = (index: number): KeyObject => keys[index] ?? assert.fail(`no key ${index}`);

const schemes: SchemeUnderTest[] = [
  {
    name: 'X-Signature', scheme: xSignatureScheme, headerNames: ['x-signature'], keys, now: 0,
    sign: (index, body) => ({ 'x-signature': signBody(secretAt(index), body) }),
  },
  {
    name: 'X-Hub-Signature-256', scheme: hubSignatureScheme, headerNames: ['x-hub-signature-256'], keys, now: 0,
    sign: (index, body) => ({ 'x-hub-signature-256': signHubBody(secretAt(index), body) }),
  },
  {
    name: 'Standard Webhooks', scheme: standardWebhooksScheme({ toleranceSeconds: 300 }), keys, now: SENT_AT * 1000,
    headerNames: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
    sign: (index, body) => signStandardWebhook({ secret: keyAt(index), id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', timestamp: SENT_AT, body }),
  },
];

const body = Buffer.from('{"message_id":"m1","text":"h\\u00e9"}');
const HOSTILE_VALUES: unknown[] = [
  '', ' ', ',', '=', 'v1,', 'sha256=', '\u0000', '\r\n', 'é', '\ud800', '0'.repeat(100_000), [], ['a', 'b'], 42, null, {},
];

for (const subject of schemes) {
  const { name, scheme, keys: all, now } = subject;
  const verify = (headers: IncomingHttpHeaders, bytes: Uint8Array = body, keyList: readonly KeyObject[] = all) =>
    scheme.verify({ headers, body: bytes, keys: keyList, now });

  describe(`the ${name} scheme`, () => {
    test('names the position of the key that signed, among three', () => {
      for (const index of [0, 1, 2]) assert.deepEqual(verify(subject.sign(index, body)), { ok: true, keyIndex: index });
    });

    test('accepts an empty body signed as it is', () => {
      const empty = new Uint8Array(0);
      assert.deepEqual(verify(subject.sign(1, empty), empty), { ok: true, keyIndex: 1 });
    });

    test('refuses a signature by a key it does not hold, and any signature when it holds none', () => {
      assert.deepEqual(verify(subject.sign(2, body), body, [keyAt(0), keyAt(1)]), { ok: false, reason: 'mismatch' });
      assert.deepEqual(verify(subject.sign(0, body), body, []), { ok: false, reason: 'mismatch' });
    });

    test('refuses a body with one byte changed, wherever it is', () => {
      const headers = subject.sign(0, body);
      for (let position = 0; position < body.length; position++) {
        const changed = Buffer.from(body);
        changed.writeUInt8(changed.readUInt8(position) ^ 0x01, position);
        assert.deepEqual(verify(headers, changed), { ok: false, reason: 'mismatch' }, `byte ${position}`);
      }
    });

    test('says missing when its headers are absent', () => {
      assert.deepEqual(verify({}), { ok: false, reason: 'missing' });
      assert.deepEqual(verify({ 'content-type': 'application/json', authorization: 'Bearer x' }), { ok: false, reason: 'missing' });
    });

    test('answers every hostile header value with a refusal, never a throw', () => {
      for (const headerName of subject.headerNames) {
        for (const value of HOSTILE_VALUES) {
          const headers = { ...subject.sign(0, body), [headerName]: value } as IncomingHttpHeaders;
          const verdict = verify(headers);
          assert.equal(verdict.ok, false, `${headerName}: ${JSON.stringify(value)?.slice(0, 40)}`);
        }
      }
    });
  });
}
