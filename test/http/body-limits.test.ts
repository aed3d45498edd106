// The memory all unverified bodies hold at once (MAX_BUFFERED_BODY_BYTES), and how a body is charged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { message, postWebhook, SECRET, startService, storedRows } from '../support/service.ts';
import { openSocket, rawRequest } from '../support/raw-socket.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';

test('bodies still arriving hold at most MAX_BUFFERED_BODY_BYTES: past it a request gets 503 at once, and the budget comes back', async (t) => {
  const service = await startService(t, { env: { MAX_BODY_BYTES: '1000', MAX_BUFFERED_BODY_BYTES: '2000' } });
  const buffered = async () => valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'webhook_body_bytes_buffered');
  const head = (id: string, framing: string) =>
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}X-Signature: ${'0'.repeat(64)}\r\n` +
    `X-Request-ID: ${id}\r\n\r\n`;
  const expecting = 'Expect: 100-continue\r\n';

  // Headers alone hold nothing: a client declaring a large body must send it to hold memory.
  const declaredOnly = await openSocket(service);
  t.after(() => declaredOnly.destroy());
  const invited = new Promise<string>((resolve) => declaredOnly.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  declaredOnly.write(head('declared-only', `Content-Length: 1000\r\n${expecting}`));
  assert.match(await invited, /^HTTP\/1\.1 100 Continue\r\n/);
  assert.equal(await buffered(), 0);

  // Two slow clients send 990 of their 1,000 bytes: each holds a 1,000-byte buffer.
  const held = await Promise.all(
    ['held-1', 'held-2'].map(async (id) => {
      const socket = await openSocket(service);
      t.after(() => socket.destroy());
      socket.write(head(id, 'Content-Length: 1000\r\n') + '{'.repeat(990));
      return socket;
    }),
  );
  for (let scrapes = 0; scrapes < 200 && (await buffered()) !== 2000; scrapes++);
  assert.equal(await buffered(), 2000);

  // Refused before the body is invited when it declares its length; at its first chunk when not.
  for (const [id, framing, body] of [
    ['over-declared', `Content-Length: 500\r\n${expecting}`, ''],
    ['over-chunked', 'Transfer-Encoding: chunked\r\n', '5\r\n{"a":\r\n'],
  ] as const) {
    const answer = await rawRequest(service, head(id, framing) + body);
    assert.match(answer, /^HTTP\/1\.1 503 /, id);
    assert.match(answer, /Retry-After: 1\r\n/);
    assert.ok(!answer.includes('100 Continue'), answer);
    const line = await service.waitForLog((entry) => entry.client_request_id === id);
    assert.equal(line.result, 'unavailable');
    assert.equal(line.reason, 'body_budget');
  }

  // A client that gives up gives its share back: a whole message fits again.
  held[0]!.destroy();
  await service.waitForLog((entry) => entry.client_request_id === 'held-1');
  assert.equal(await buffered(), 1000);
  assert.equal((await postWebhook(service, message('after-budget'))).status, 200);
});

test('a body sent one byte per chunk is put back together, verified and stored, and its buffer given back', async (t) => {
  const service = await startService(t);
  const buffered = async () => valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'webhook_body_bytes_buffered');
  const body = Buffer.from(JSON.stringify(message('byte-chunks')));
  const chunks = [...body].map((byte) => `1\r\n${String.fromCharCode(byte)}\r\n`).join('');
  const answer = await rawRequest(
    service,
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n` +
      `X-Signature: ${signBody(SECRET, body)}\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
  );
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['byte-chunks']);
  assert.equal(await buffered(), 0);
});
