import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { issueLocations, message, postWebhook, SECRET, startService, storedRows, type Service } from '../support/service.ts';

test('POST /webhook', async (t) => {
  const service = await startService(t);
  const ids = async (): Promise<string[]> => (await storedRows(service)).map((row) => row.message_id);

  await t.test('stores a valid signed message and answers 200 {"status":"ok"}', async () => {
    const sent = message('valid-1', { text: 'hi there' });
    const reply = await postWebhook(service, sent);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: 'ok' });
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
    const row = (await storedRows(service)).find((r) => r.message_id === 'valid-1');
    assert.ok(row);
    assert.deepEqual(
      { from: row.from_msisdn, to: row.to_msisdn, ts: row.ts, text: row.text },
      { from: sent.from, to: sent.to, ts: sent.ts, text: sent.text },
    );
    assert.match(row.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  await t.test('acknowledges a duplicate with 200 and changes nothing', async () => {
    assert.equal((await postWebhook(service, message('dup-1', { text: 'first' }))).status, 200);
    const before = (await storedRows(service)).find((r) => r.message_id === 'dup-1');
    const again = await postWebhook(service, message('dup-1', { text: 'second', from: '+111' }));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'ok' });
    const rows = (await storedRows(service)).filter((r) => r.message_id === 'dup-1');
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0], before);
  });

  await t.test('stores 50 concurrent duplicates of one id exactly once', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, () => postWebhook(service, message('concurrent-1'))));
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
    assert.equal((await ids()).filter((id) => id === 'concurrent-1').length, 1);
  });

  await t.test('stores a null or absent text as null', async () => {
    assert.equal((await postWebhook(service, message('null-text', { text: null }))).status, 200);
    const { text: _omitted, ...withoutText } = message('absent-text');
    assert.equal((await postWebhook(service, withoutText)).status, 200);
    const rows = (await storedRows(service)).filter((r) => r.message_id.endsWith('-text'));
    assert.deepEqual(rows.map((r) => r.text), [null, null]);
  });

  await t.test('round-trips non-ASCII and emoji text signed over the raw bytes', async () => {
    const text = 'नमस्ते 👋🏽 — ünïcödé 中文 \u0000 "quoted"';
    const reply = await postWebhook(service, message('unicode-1', { text }));
    if (service.backend === 'postgres') {
      // PostgreSQL text cannot hold U+0000: refused whole rather than stored altered.
      assert.equal(reply.status, 422);
      assert.deepEqual(issueLocations(reply.body), [['body', 'text']]);
      assert.equal((await storedRows(service)).find((r) => r.message_id === 'unicode-1'), undefined);
      const withoutNul = text.replace('\u0000', '');
      assert.equal((await postWebhook(service, message('unicode-1', { text: withoutNul }))).status, 200);
      assert.equal((await storedRows(service)).find((r) => r.message_id === 'unicode-1')?.text, withoutNul);
      return;
    }
    assert.equal(reply.status, 200);
    assert.equal((await storedRows(service)).find((r) => r.message_id === 'unicode-1')?.text, text);
  });

  await t.test('ignores unknown keys', async () => {
    assert.equal((await postWebhook(service, { ...message('extra-keys'), channel: 'whatsapp' })).status, 200);
    assert.ok((await ids()).includes('extra-keys'));
  });

  await t.test('accepts application/json with a charset parameter', async () => {
    const reply = await postWebhook(service, message('charset-1'), { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    assert.equal(reply.status, 200);
    assert.ok((await ids()).includes('charset-1'));
  });

  const badSignatures: [string, (raw: string) => string | null][] = [
    ['a missing signature', () => null],
    ['an empty signature', () => ''],
    ['a garbage signature', () => 'not-a-signature'],
    ['a signature of the wrong length', (raw) => signBody(SECRET, raw).slice(0, 62)],
    ['a signature with non-hex characters', (raw) => 'zz' + signBody(SECRET, raw).slice(2)],
    ['a signature made with another secret', (raw) => signBody('another-secret', raw)],
    ['a signature of another body', () => signBody(SECRET, JSON.stringify(message('other')))],
    ['a signature with its first digit changed', (raw) => flipHexDigit(signBody(SECRET, raw), 0)],
    ['a signature with its last digit changed', (raw) => flipHexDigit(signBody(SECRET, raw), 63)],
  ];
  for (const [name, makeSignature] of badSignatures) {
    await t.test(`rejects ${name} with 401 and stores nothing`, async () => {
      const id = `badsig-${name.replaceAll(' ', '-')}`;
      const raw = JSON.stringify(message(id));
      const reply = await postWebhook(service, raw, { signature: makeSignature(raw) });
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.body, { detail: 'invalid signature' });
      assert.ok(!(await ids()).includes(id));
    });
  }

  await t.test('verifies the bytes as sent: a body signed in another serialization of the same JSON is 401', async () => {
    const sent = JSON.stringify(message('reserialized-1'), null, 2);
    const reply = await postWebhook(service, sent, { signature: signBody(SECRET, JSON.stringify(JSON.parse(sent))) });
    assert.equal(reply.status, 401);
    assert.ok(!(await ids()).includes('reserialized-1'));
  });

  await t.test('checks the signature before the body: an invalid unsigned body is 401, not 422', async () => {
    const reply = await postWebhook(service, '{"message_id": 5', { signature: null });
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.body, { detail: 'invalid signature' });
  });

  await t.test('answers malformed JSON with a FastAPI-style 422', async () => {
    const reply = await postWebhook(service, '{"message_id": "x",');
    assert.equal(reply.status, 422);
    assert.deepEqual(reply.body, { detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] });
  });

  await t.test('refuses a body that is not valid UTF-8 with 422 json_invalid, so no two ids can collide', async () => {
    // Two ids that differ only in an invalid byte would both decode to the same U+FFFD text.
    for (const [id, byte] of [['utf8-ff', 0xff], ['utf8-fe', 0xfe], ['utf8-surrogate', 0xed]] as const) {
      const raw = Buffer.concat([Buffer.from(`{"message_id":"${id}-`), Buffer.from([byte, 0xa0, 0x80]), Buffer.from('","from":"+15","to":"+2","ts":"2025-06-01T00:00:00Z"}')]);
      const reply = await postWebhook(service, raw);
      assert.equal(reply.status, 422, id);
      assert.deepEqual(reply.body, { detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] });
    }
    assert.equal((await storedRows(service)).filter((row) => row.message_id.startsWith('utf8-')).length, 0);
  });

  await t.test('answers a JSON array body with 422 on loc ["body"]', async () => {
    const reply = await postWebhook(service, '[]');
    assert.equal(reply.status, 422);
    assert.deepEqual(issueLocations(reply.body), [['body']]);
  });

  await t.test('lists one 422 issue per problem, each with loc, msg and type', async () => {
    const reply = await postWebhook(service, { from: 'abc', to: 5, ts: 'yesterday' });
    assert.equal(reply.status, 422);
    // The messages FastAPI (pydantic) gives for the same problems.
    assert.deepEqual(reply.body.detail, [
      { loc: ['body', 'message_id'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'from'], msg: "String should match pattern '^\\+\\d{1,15}$'", type: 'string_pattern_mismatch' },
      { loc: ['body', 'to'], msg: 'Input should be a valid string', type: 'string_type' },
      { loc: ['body', 'ts'], msg: 'Value error, ts must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z', type: 'value_error' },
    ]);
  });

  const boundaries: [string, Record<string, unknown>, number, string?][] = [
    ['text of exactly 4096 characters', { text: 'x'.repeat(4096) }, 200],
    ['text of 4096 emoji (4096 characters, 8192 UTF-16 units)', { text: '😀'.repeat(4096) }, 200],
    ['text of 4097 characters', { text: 'x'.repeat(4097) }, 422, 'text'],
    ['a number as text', { text: 42 }, 422, 'text'],
    ['an empty message_id', { message_id: '' }, 422, 'message_id'],
    ['a numeric message_id', { message_id: 7 }, 422, 'message_id'],
    ['from of "+" alone', { from: '+' }, 422, 'from'],
    ['from without "+"', { from: '919876543210' }, 422, 'from'],
    ['from with letters', { from: '+91987abc' }, 422, 'from'],
    ['to with letters', { to: '+1415555O100' }, 422, 'to'],
    ['from with 15 digits', { from: '+123456789012345' }, 200],
    ['from with 16 digits', { from: '+1234567890123456' }, 422, 'from'],
    ['ts without Z', { ts: '2025-01-15T10:00:00' }, 422, 'ts'],
    ['ts with an offset instead of Z', { ts: '2025-01-15T10:00:00+00:00' }, 422, 'ts'],
    ['ts on 2025-02-30', { ts: '2025-02-30T00:00:00Z' }, 422, 'ts'],
    ['ts at hour 24', { ts: '2025-01-15T24:00:00Z' }, 422, 'ts'],
    ['ts on a leap day', { ts: '2024-02-29T23:59:59Z' }, 200],
    ['ts on 29 February of a common year', { ts: '2025-02-29T00:00:00Z' }, 422, 'ts'],
    ['ts with fractional seconds', { ts: '2025-01-15T10:00:00.123456Z' }, 200],
    ['ts as a date only', { ts: '2025-01-15' }, 422, 'ts'],
    ['a message_id of 256 characters', { message_id: 'i'.repeat(255) + '😀' }, 200],
    ['a message_id of 257 characters', { message_id: 'i'.repeat(257) }, 422, 'message_id'],
    ['a message_id holding a lone surrogate', { message_id: 'id-\ud800' }, 422, 'message_id'],
    ['text holding a lone surrogate', { text: 'broken \udc00 text' }, 422, 'text'],
  ];
  for (const [index, [name, overrides, expected, field]] of boundaries.entries()) {
    await t.test(`answers ${expected} for ${name}`, async () => {
      const id = `boundary-${index}`;
      const before = (await ids()).length;
      const reply = await postWebhook(service, { ...message(id), ...overrides });
      assert.equal(reply.status, expected);
      if (field !== undefined) {
        assert.deepEqual(issueLocations(reply.body), [['body', field]]);
      }
      assert.equal((await ids()).length, before + (expected === 200 ? 1 : 0));
    });
  }

  await t.test('refuses lone surrogates, so two different ids can never collide into one stored message', async () => {
    for (const id of ['sur-\ufffd', 'sur-\ud800', 'sur-\ud801']) {
      const reply = await postWebhook(service, message(id, { text: id }));
      assert.equal(reply.status, id === 'sur-\ufffd' ? 200 : 422);
    }
    assert.deepEqual((await ids()).filter((id) => id.startsWith('sur-')), ['sur-\ufffd']);
  });

  await t.test('refuses a body over MAX_BODY_BYTES declared in Content-Length with 413', async () => {
    const raw = JSON.stringify(message('too-big-declared', { text: 'x'.repeat(4000) })) + ' '.repeat(1_100_000);
    const reply = await rawPost(service, raw, { 'Content-Length': String(Buffer.byteLength(raw)) });
    assert.equal(reply.status, 413);
    assert.deepEqual(JSON.parse(reply.body), { detail: 'payload too large' });
    assert.ok(!(await ids()).includes('too-big-declared'));
  });

  await t.test('refuses a chunked body that grows past MAX_BODY_BYTES with 413', async () => {
    const raw = JSON.stringify(message('too-big-chunked')) + ' '.repeat(1_100_000);
    const reply = await rawPost(service, raw, { 'Transfer-Encoding': 'chunked' });
    assert.equal(reply.status, 413);
    assert.ok(!(await ids()).includes('too-big-chunked'));
  });

  await t.test('accepts a body of exactly MAX_BODY_BYTES, and refuses one byte more with 413 (declared or chunked)', async () => {
    const exactly = (id: string) => {
      const raw = JSON.stringify(message(id));
      return raw + ' '.repeat(1_048_576 - Buffer.byteLength(raw));
    };
    const fits = exactly('exactly-max');
    assert.equal((await postWebhook(service, fits)).status, 200);
    const over = exactly('one-over') + ' ';
    assert.equal((await rawPost(service, over, { 'Content-Length': String(Buffer.byteLength(over)) })).status, 413);
    assert.equal((await rawPost(service, over, { 'Transfer-Encoding': 'chunked' })).status, 413);
    assert.ok((await ids()).includes('exactly-max'));
    assert.ok(!(await ids()).includes('one-over'));
  });

  await t.test('accepts a structured JSON media type (application/*+json)', async () => {
    const reply = await postWebhook(service, message('vendor-json'), { headers: { 'Content-Type': 'application/vnd.provider.message+json' } });
    assert.equal(reply.status, 200);
    assert.ok((await ids()).includes('vendor-json'));
  });

  await t.test('refuses a present non-JSON Content-Type with 415', async () => {
    const reply = await postWebhook(service, message('wrong-type'), { headers: { 'Content-Type': 'text/plain' } });
    assert.equal(reply.status, 415);
    assert.equal(typeof reply.body.detail, 'string');
    assert.ok(!(await ids()).includes('wrong-type'));
  });

  await t.test('accepts a request without Content-Type', async () => {
    const raw = JSON.stringify(message('no-type'));
    const reply = await rawPost(service, raw, { 'Content-Length': String(Buffer.byteLength(raw)), 'X-Signature': signBody(SECRET, raw) });
    assert.equal(reply.status, 200);
    assert.ok((await ids()).includes('no-type'));
  });
});

function flipHexDigit(hex: string, position: number): string {
  return hex.slice(0, position) + (hex[position] === '0' ? '1' : '0') + hex.slice(position + 1);
}

/** A POST through node:http, so the test controls framing (Content-Length or chunked). */
function rawPost(service: Service, raw: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${service.url}/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and close before it has read everything; that is the point.
    req.on('error', (error) => reject(error));
    const data = Buffer.from(raw);
    const chunkSize = 64 * 1024;
    for (let offset = 0; offset < data.length; offset += chunkSize) req.write(data.subarray(offset, offset + chunkSize));
    req.end();
  });
}
