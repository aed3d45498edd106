// Connections: half-closes, resets, clients that leave while answers are written, MAX_CONNECTIONS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { message, SECRET, startService } from '../support/service.ts';
import { openSocket, rawRequest, rawExchange } from '../support/raw-socket.ts';
import { assertStillServing, clientErrorLines } from '../support/http-checks.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';

test('a client that half-closes right after a complete request still gets its answer', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('half-closed-1')));
  const webhook =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  assert.match(await rawExchange(service, webhook), /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
  assert.match(await rawExchange(service, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 200 [^]*# TYPE /);
});

test('bytes after a Connection: close request are ignored: its answer goes out and nothing else is logged', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(
    service,
    'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: close-then-more\r\nConnection: close\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"live"\}$/);
  await service.waitForLog((entry) => entry.client_request_id === 'close-then-more');
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  assert.equal(clientErrorLines(service), 0);
});

test('a connection reset with no request in progress leaves no log line', async (t) => {
  const service = await startService(t);
  (await openSocket(service)).resetAndDestroy();
  await assertStillServing(service, 'after-reset');
  assert.equal(clientErrorLines(service), 0);
});

test('a client that closes while answers are being written leaves no client error line', async (t) => {
  const service = await startService(t);
  const socket = await openSocket(service);
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Request-ID: gone-1\r\n\r\n'.repeat(3));
  socket.destroy();
  await service.waitForLog((entry) => entry.client_request_id === 'gone-1');
  await assertStillServing(service, 'after-gone');
  assert.equal(clientErrorLines(service), 0);
});

test('past MAX_CONNECTIONS open connections a new one is closed on arrival, and counted', async (t) => {
  const service = await startService(t, { env: { MAX_CONNECTIONS: '2' } });
  const open = await Promise.all(
    [0, 1].map(async () => {
      const socket = await openSocket(service);
      t.after(() => socket.destroy());
      const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await answered, /^HTTP\/1\.1 200 /);
      return socket;
    }),
  );
  // The third gets nothing: closed (or reset) as it arrives.
  const third = await openSocket(service);
  const received = await new Promise<string>((resolve) => {
    let data = '';
    third.on('data', (chunk: Buffer) => (data += chunk.toString()));
    third.on('close', () => resolve(data));
    third.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  assert.equal(received, '');

  const closed = new Promise((resolve) => open[0]!.once('close', resolve));
  open[0]!.destroy();
  await closed;
  let scraped: Response | null = null;
  // The server sees the close a moment after the client: until then a new connection is refused too.
  for (let attempt = 0; attempt < 100 && scraped === null; attempt++) scraped = await fetch(`${service.url}/metrics`).catch(() => null);
  assert.ok(scraped !== null);
  const dropped = valueOf(parseExposition(await scraped.text()), 'http_connections_dropped_total') as number;
  assert.ok(dropped >= 1, `dropped ${dropped}`);
});
