// Routing: unknown paths, wrong methods, paths taken exactly as sent, absolute-form targets, Host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startService } from '../support/service.ts';
import { rawRequest, rawExchange } from '../support/raw-socket.ts';
import { answeredId } from '../support/http-checks.ts';

test('an unknown path answers 404 {"detail":"not found"} in JSON', async (t) => {
  const service = await startService(t);
  for (const path of ['/', '/nope', '/webhook/', '/health', '/WEBHOOK']) {
    const response = await fetch(`${service.url}${path}`);
    assert.equal(response.status, 404, path);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { detail: 'not found' });
  }
});

test('a wrong method on a known path answers 405 with Allow', async (t) => {
  const service = await startService(t);
  const cases: [string, string, string][] = [
    ['GET', '/webhook', 'POST'],
    ['PUT', '/webhook', 'POST'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['DELETE', '/health/ready', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${service.url}${path}`, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get('allow'), allow);
    assert.deepEqual(await response.json(), { detail: 'method not allowed' });
  }
});

test('paths are routed exactly as sent: dot segments, encoded dots and backslashes reach no endpoint', async (t) => {
  const service = await startService(t);
  const paths = ['/x/../metrics', '/x/%2e%2e/metrics', '/%2E%2E/metrics', '/./metrics', '/health\\live', '/x/..%2fmetrics'];
  for (const [index, path] of paths.entries()) {
    const requestId = `raw-path-${index}`;
    const answer = await rawExchange(service, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-ID: ${requestId}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 404 /, path);
    assert.ok(answer.endsWith('{"detail":"not found"}'), path);
    // Logged as sent, percent-encoding kept, so the log shows what the client asked for.
    const line = await service.waitForLog((entry) => entry.client_request_id === requestId);
    assert.equal(line.path, path);
  }
  assert.equal((await fetch(`${service.url}/metrics`)).status, 200);
});

test('an absolute-form request target is served by its path, exactly as sent', async (t) => {
  const service = await startService(t);
  const live = await rawRequest(service, 'GET http://service.example/health/live HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(live, /^HTTP\/1\.1 200 /);
  assert.ok(live.endsWith('{"status":"live"}'));
  const listing = await rawRequest(service, 'GET HTTP://service.example/messages?limit=1 HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(listing, /^HTTP\/1\.1 200 /);
  assert.ok(listing.endsWith('"limit":1,"offset":0}'), listing);
  const dotted = await rawRequest(service, 'GET http://service.example/x/%2e%2e/metrics HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(dotted, /^HTTP\/1\.1 404 /);
});

test('an HTTP/1.1 request without exactly one Host header gets a JSON 400 and its log line', async (t) => {
  const service = await startService(t);
  for (const [requestId, hosts] of [['no-host', ''], ['two-hosts', 'Host: a\r\nHost: b\r\n']] as const) {
    const answer = await rawRequest(service, `GET /health/live HTTP/1.1\r\n${hosts}X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /, requestId);
    assert.ok(answer.endsWith('{"detail":"bad request"}'));
    const line = await service.waitForLog((entry) => entry.client_request_id === requestId);
    assert.equal(answeredId(answer), line.request_id);
    assert.equal(line.status, 400);
  }
  // HTTP/1.0 has no Host requirement.
  assert.match(await rawRequest(service, 'GET /health/live HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
});
