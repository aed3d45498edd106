// Requests Node's HTTP parser rejects, and CONNECT: each gets a JSON answer in its turn and one log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { message, SECRET, startService, storedRows } from '../support/service.ts';
import { openSocket, rawRequest, rawExchange } from '../support/raw-socket.ts';
import { assertBodyIncomplete } from '../support/http-checks.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';

test('a request the HTTP parser rejects gets a JSON 400 and a log line, and the service keeps serving', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /Content-Type: application\/json/);
  // The same headers as the app's own answers.
  assert.match(answer, /\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n/);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  assert.ok(requestId);
  await service.waitForLog((line) => line.msg === 'client error' && line.status === 400 && line.request_id === requestId);
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('a client that stops mid-body and closes its side gets 400 request body incomplete, one log line, nothing stored', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('cut-off-1')));
  const head =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nX-Request-ID: cut-off-request\r\n\r\n`;
  // Half the body, then the end of what this client sends: the parser sees the stream end mid-body.
  await assertBodyIncomplete(service, await rawExchange(service, head + body.subarray(0, 20).toString()), 'cut-off-request');
  assert.deepEqual(await storedRows(service), []);
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('a malformed chunk mid-body gets 400 request body incomplete and one log line', async (t) => {
  const service = await startService(t);
  const head =
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n' +
    'X-Signature: 00\r\nX-Request-ID: bad-chunk-request\r\n\r\n';
  await assertBodyIncomplete(service, await rawExchange(service, head + '5\r\n{"a":\r\nnot-a-size\r\n'), 'bad-chunk-request');
});

test('a malformed body on a pipelined request is answered after the request before it, in order', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('pipelined-1')));
  const first =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  const second =
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n' +
    'X-Signature: 00\r\nX-Request-ID: pipelined-bad\r\n\r\n5\r\n{"a":\r\nnot-a-size\r\n';
  // Both in one write: the parser meets the bad chunk while the first message is still committing.
  const answer = await rawExchange(service, first + second);
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}HTTP\/1\.1 400 [^]*\{"detail":"request body incomplete"\}$/);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['pipelined-1']);
  // The second waited its turn while its body was rejected: still one line, and counted.
  await assertBodyIncomplete(service, answer.slice(answer.lastIndexOf('HTTP/1.1 400')), 'pipelined-bad');
  const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  assert.equal(valueOf(metrics, 'webhook_requests_total', { source: 'webhook', result: 'body_incomplete' }), 1);
});

test('a request head cut off by the client is still answered 400 and logged as a client error', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Le');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  assert.ok(requestId);
  await service.waitForLog((line) => line.msg === 'client error' && line.request_id === requestId);
});

test('CONNECT gets a JSON 400 and a client error log line, not a dropped connection', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  await service.waitForLog((line) => line.msg === 'client error' && line.request_id === requestId && line.code === 'CONNECT');
});

test('a CONNECT reset by the client while it is answered does not take the service down', async (t) => {
  const service = await startService(t);
  for (let attempt = 0; attempt < 20; attempt++) {
    const socket = await openSocket(service);
    socket.write('CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n');
    socket.resetAndDestroy();
  }
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  assert.equal(service.child.exitCode, null);
});

test('a rejected request pipelined behind an unanswered one is answered after it, in order', async (t) => {
  const service = await startService(t);
  for (const second of ['CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n', 'BAD\x01 / HTTP/1.1\r\n\r\n']) {
    const answer = await rawRequest(service, `GET /messages HTTP/1.1\r\nHost: x\r\n\r\n${second}`);
    assert.match(answer, /^HTTP\/1\.1 200 [^]*"offset":0\}HTTP\/1\.1 400 [^]*\{"detail":"bad request"\}$/, second);
  }
});

test('a body rejected mid-request on a route that does not read it is answered 400 and logged 400', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: get-body\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1);
  assert.ok(answer.endsWith('{"detail":"request body incomplete"}'));
  const line = await service.waitForLog((entry) => entry.client_request_id === 'get-body');
  assert.equal(line.status, 400);
  assert.equal(service.logs.filter((entry) => entry.client_request_id === 'get-body').length, 1);
});

test('after an answered request on a keep-alive connection, a malformed next request still gets its JSON 400', async (t) => {
  const service = await startService(t);
  let sentSecond = false;
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', {
    // The first answer is in: the next request on the same connection.
    onData: (_received, socket) => {
      if (!sentSecond) socket.write('BAD\x01 / HTTP/1.1\r\n\r\n');
      sentSecond = true;
    },
  });
  assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 /);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
});

test('a request answered early and then rejected mid-body closes the connection only after the answers before it', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('answered-early-1')));
  const first =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  // The 415 is decided at once and waits behind the 200; the malformed chunk follows a moment
  // later, while the first message is usually still committing.
  const second = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
  const answer = await rawRequest(service, first + second, { afterWrite: (socket) => setTimeout(() => socket.write('zz\r\n'), 1) });
  // If the chunk arrives with the head, the body is refused before the media type is: a 400.
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}HTTP\/1\.1 (415|400) /);
});

test('headers over 16 KiB get a JSON 431', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 431 /);
  assert.ok(answer.endsWith('{"detail":"request headers too large"}'));
});
