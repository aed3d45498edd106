// Expect: 100-continue is sent only when a body is about to be read; any other expectation is a 417.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { message, SECRET, startService, storedRows } from '../support/service.ts';
import { rawRequest } from '../support/raw-socket.ts';
import { clientErrorLines } from '../support/http-checks.ts';

test('an Expect other than 100-continue gets a JSON 417 and its log line', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nX-Request-ID: expect-1\r\nConnection: close\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 417 /);
  assert.ok(answer.endsWith('{"detail":"expectation failed"}'));
  const line = await service.waitForLog((entry) => entry.client_request_id === 'expect-1');
  assert.equal(line.status, 417);
});

test('a refused Expect with a malformed body gets one answer and one log line', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'POST /webhook HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nX-Request-ID: expect-2\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, answer);
  await service.waitForLog((entry) => entry.client_request_id === 'expect-2');
  assert.equal(clientErrorLines(service), 0);
});

test('Expect: 100-continue, even sent twice, invites a webhook body and the message is stored', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('invited-1')));
  const head =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nExpect: 100-continue\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  let sentBody = false;
  const answer = await rawRequest(service, head, {
    onData: (received, socket) => {
      if (sentBody || !received.includes('100 Continue\r\n\r\n')) return;
      sentBody = true;
      socket.write(body);
    },
  });
  assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['invited-1']);
});

test('a request refused without its body is answered at once, never invited to send it first', async (t) => {
  const service = await startService(t);
  const expect = 'Expect: 100-continue\r\nConnection: close\r\n';
  const cases = [
    ['POST /webhook', `Content-Type: application/json\r\nContent-Length: 10000000\r\n${expect}`, 413],
    ['POST /webhook', `Content-Type: text/plain\r\nContent-Length: 20\r\n${expect}`, 415],
    ['POST /nope', `Content-Type: application/json\r\nContent-Length: 20\r\n${expect}`, 404],
    ['GET /health/live', expect, 200],
  ] as const;
  for (const [target, headers, status] of cases) {
    const answer = await rawRequest(service, `${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), target);
    assert.ok(!answer.includes('100 Continue'), `${target}: ${answer}`);
  }
  assert.deepEqual(await storedRows(service), []);
});

test('an Expect list with anything but 100-continue gets a 417 and no 100 Continue', async (t) => {
  const service = await startService(t);
  for (const expect of ['Expect: 100-continue, foo\r\n', 'Expect: foo\r\nExpect: 100-continue\r\n', 'Expect: x-100-continue-y\r\n']) {
    const answer = await rawRequest(service, `GET /health/live HTTP/1.1\r\nHost: x\r\n${expect}Connection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 417 [^]*\{"detail":"expectation failed"\}$/, expect);
  }
});

test('an HTTP/1.0 request with Expect: 100-continue gets no interim answer', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.0\r\nExpect: 100-continue\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 /);
});
