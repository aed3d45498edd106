// Pipelined requests: answered one at a time and in order, and bounded per connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { message, SECRET, startService, storedRows } from '../support/service.ts';
import { rawRequest } from '../support/raw-socket.ts';
import { assertStillServing } from '../support/http-checks.ts';

test('pipelined requests are answered one after another, in order', async (t) => {
  const service = await startService(t);
  const requests = Array.from({ length: 10 }, (_, n) => `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: in-order-${n}\r\n\r\n`);
  const answer = await rawRequest(service, requests.join('') + 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  // Each answer carries the service's id; its log line names the request the client sent.
  await service.waitForLog((line) => line.client_request_id === 'in-order-9');
  const answered = [...answer.matchAll(/X-Request-ID: ([0-9a-f-]{36})\r\n/g)].map((match) => match[1]);
  const sent = answered.map((id) => service.logs.find((line) => line.request_id === id)?.client_request_id ?? 'unlogged');
  assert.deepEqual(sent.slice(0, 10), Array.from({ length: 10 }, (_, n) => `in-order-${n}`));
  assert.equal(answer.match(/HTTP\/1\.1 200 /g)?.length, 11);
});

test('a client that pipelines more than 16 requests at once is disconnected, and what waited is dropped unhandled', async (t) => {
  const service = await startService(t);
  const requests = Array.from({ length: 200 }, (_, n) => `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Request-ID: flood-${n}\r\n\r\n`);
  await rawRequest(service, requests.join(''));
  await service.waitForLog((line) => line.msg === 'connection dropped: too many pipelined requests' && line.limit === 16);
  // Only the request being handled when the connection dropped can have a line; the rest never ran.
  await assertStillServing(service, 'after-flood');
  assert.ok(service.logs.filter((line) => String(line.client_request_id).startsWith('flood-')).length <= 1);
  assert.equal(service.logs.filter((line) => line.msg === 'connection dropped: too many pipelined requests').length, 1);
});

test('a request pipelined behind an answer that closes the connection is not carried out', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('behind-close')));
  // The 415 is answered without reading its body, so its answer closes the connection.
  const refused = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Request-ID: closing\r\n\r\nhello';
  const behind =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nX-Request-ID: behind-close\r\n\r\n${body}`;
  const answer = await rawRequest(service, refused + behind);
  assert.match(answer, /^HTTP\/1\.1 415 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1);
  await service.waitForLog((line) => line.client_request_id === 'closing');
  await assertStillServing(service, 'after-close');
  // Not stored, so no 200 was lost: the client, which got no answer, sends it again.
  assert.deepEqual(await storedRows(service), []);
  assert.equal(service.logs.filter((line) => line.client_request_id === 'behind-close').length, 0);
});
