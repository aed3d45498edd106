import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, message, postWebhook, SECRET, startService, type Service } from '../support/service.ts';

const TEXT = 'text-that-must-never-be-logged';
const PHONES = ['+919876543210', '919876543210', '+14155550100', '14155550100'];
const ISO_MILLISECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type LogLine = Record<string, unknown>;

/**
 * Every line a request wrote. Lines are written as each response is sent, so once the line of a
 * later request is in, the earlier request has written all it ever will.
 */
async function linesOf(service: Service, match: (entry: LogLine) => boolean): Promise<LogLine[]> {
  const sentinel = `sentinel-${Math.random()}`;
  await fetch(`${service.url}/health/live`, { headers: { 'X-Request-ID': sentinel } });
  await service.waitForLog((entry) => entry.client_request_id === sentinel);
  return service.logs.filter(match);
}

/**
 * The one line of the request the client called `clientRequestId` (or, given `{ requestId }`, of
 * the request the service called so), with the fields that vary (ts, latency_ms, the service's own
 * request_id, a UUID) checked and removed.
 */
async function onlyLineOf(service: Service, id: string | { requestId: string }): Promise<LogLine> {
  const lines = await linesOf(service, (entry) => (typeof id === 'string' ? entry.client_request_id === id : entry.request_id === id.requestId));
  assert.equal(lines.length, 1, `exactly one line for ${JSON.stringify(id)}`);
  const { ts, latency_ms, request_id, ...rest } = lines[0] as LogLine;
  assert.match(String(request_id), UUID);
  assert.match(String(ts), ISO_MILLISECONDS);
  assert.equal(typeof latency_ms, 'number');
  // Microseconds, rounded: handling any request takes some.
  assert.ok((latency_ms as number) > 0);
  return rest;
}

test('request log lines', async (t) => {
  const service = await startService(t, { env: { MAX_BODY_BYTES: '4096' } });
  const get = (path: string, requestId: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, { ...init, headers: { 'X-Request-ID': requestId, ...(init.headers as Record<string, string>) } });
  const post = (requestId: string, body: unknown, options: { signature?: string | null; headers?: Record<string, string> } = {}) =>
    postWebhook(service, body, { ...options, headers: { 'X-Request-ID': requestId, ...options.headers } });

  const webhook = (status: number, extra: LogLine) => ({ level: 'INFO', method: 'POST', path: '/webhook', status, dup: false, source: 'webhook', ...extra });
  const cases: [string, (id: string) => Promise<{ status: number }>, LogLine][] = [
    ['a stored message', (id) => post(id, message('log-1', { text: TEXT })), webhook(200, { message_id: 'log-1', key_index: 0, result: 'created' })],
    ['a duplicate', (id) => post(id, message('log-1', { text: TEXT })), webhook(200, { message_id: 'log-1', key_index: 0, dup: true, result: 'duplicate' })],
    ['a bad signature', (id) => post(id, message('log-2', { text: TEXT }), { signature: 'f'.repeat(64) }), webhook(401, { reason: 'mismatch', result: 'invalid_signature' })],
    ['an invalid payload', (id) => post(id, { ...message('log-3'), from: 'nope' }), webhook(422, { key_index: 0, result: 'validation_error' })],
    ['an oversized body', (id) => post(id, message('log-4', { text: 'x'.repeat(5000) })), webhook(413, { result: 'payload_too_large' })],
    [
      'a non-JSON content type',
      (id) => post(id, message('log-5'), { headers: { 'Content-Type': 'text/plain' } }),
      webhook(415, { result: 'unsupported_media_type' }),
    ],
    ['an unknown path', (id) => get('/no-such-path', id), { level: 'INFO', method: 'GET', path: '/no-such-path', status: 404 }],
    ['a path over 256 characters, cut to 256', (id) => get(`/${'p'.repeat(400)}`, id), { level: 'INFO', method: 'GET', path: `/${'p'.repeat(255)}`, status: 404 }],
    ['a wrong method', (id) => get('/webhook', id), { level: 'INFO', method: 'GET', path: '/webhook', status: 405 }],
    ['a probe', (id) => get('/health/ready', id), { level: 'INFO', method: 'GET', path: '/health/ready', status: 200 }],
    ['a scrape', (id) => get('/metrics', id), { level: 'INFO', method: 'GET', path: '/metrics', status: 200 }],
  ];
  for (const [index, [name, send, expected]] of cases.entries()) {
    await t.test(`writes exactly one JSON line for ${name}`, async () => {
      const requestId = `case-${index}`;
      const response = await send(requestId);
      assert.equal(response.status, expected.status);
      assert.deepEqual(await onlyLineOf(service, requestId), { client_request_id: requestId, ...expected });
    });
  }

  await t.test('answers with its own request id whatever the caller sent, and logs a sane X-Request-ID beside it', async () => {
    const sent = 'Trace-42.a_b:c';
    const response = await get('/health/live', sent);
    const own = response.headers.get('x-request-id') ?? '';
    assert.match(own, UUID);
    assert.equal((await onlyLineOf(service, { requestId: own })).client_request_id, sent);
  });

  await t.test('two requests sending the same X-Request-ID get distinct ids: a caller cannot collide lines', async () => {
    const answers = await Promise.all([1, 2].map(() => get('/health/live', 'same-id')));
    const [first, second] = answers.map((response) => response.headers.get('x-request-id') ?? '');
    assert.notEqual(first, second);
    for (const own of [first, second]) assert.equal((await onlyLineOf(service, { requestId: own as string })).client_request_id, 'same-id');
  });

  for (const [name, unsafe] of [
    ['with a space', 'has space'],
    ['with a semicolon', 'a;b'],
    ['of 129 characters', 'x'.repeat(129)],
    ['with a quote', 'a"b'],
  ] as const) {
    await t.test(`does not log an X-Request-ID ${name}`, async () => {
      const response = await get('/health/live', unsafe);
      const own = response.headers.get('x-request-id') ?? '';
      assert.match(own, UUID);
      assert.equal((await onlyLineOf(service, { requestId: own })).client_request_id, undefined);
      assert.ok(!JSON.stringify(service.logs).includes(JSON.stringify(unsafe).slice(1, -1)));
    });
  }

  await t.test('generates a distinct request id when none is sent', async () => {
    const ids = await Promise.all([1, 2].map(async () => (await fetch(`${service.url}/health/live`)).headers.get('x-request-id') ?? ''));
    for (const id of ids) assert.match(id, UUID);
    assert.notEqual(ids[0], ids[1]);
    for (const id of ids) assert.equal((await onlyLineOf(service, { requestId: id })).path, '/health/live');
  });

  await t.test('logs the path without its query string and with encoded control characters kept encoded', async () => {
    const response = await get('/odd%0Apath%0D%00%1B?from=%2B919876543210&token=query-value-secret', 'odd-path');
    assert.equal(response.status, 404);
    const line = await onlyLineOf(service, 'odd-path');
    assert.equal(line.path, '/odd%0Apath%0D%00%1B');
  });

  await t.test('keeps a message_id with control characters on one line, exactly as sent', async () => {
    // PostgreSQL text cannot hold U+0000: there an id holding one is refused with 422 (webhook.test.ts).
    const nul = service.backend === 'postgres' ? '' : '\u0000';
    const id = `ctl\n\r${nul}\u001b\u2028"\\-id`;
    assert.equal((await post('ctl-id', message(id))).status, 200);
    assert.equal((await onlyLineOf(service, 'ctl-id')).message_id, id);
  });

  await t.test('logs the longest accepted message_id whole, astral characters included', async () => {
    const id = 'long-'.repeat(51) + '😀';
    assert.equal((await post('long-id', message(id))).status, 200);
    assert.equal((await onlyLineOf(service, 'long-id')).message_id, id);
  });

  await t.test('answers a request target of "//" with 404 and keeps serving', async () => {
    const response = await get('//', 'double-slash');
    assert.equal(response.status, 404);
    assert.equal((await onlyLineOf(service, 'double-slash')).path, '//');
    assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  });

  // Runs last: it checks every line the tests above made the service write.
  await t.test('never logs the secret, a signature, message text, phone numbers or query values', async () => {
    assert.ok(service.logs.length > cases.length);
    for (const entry of service.logs) {
      const line = JSON.stringify(entry);
      for (const forbidden of [SECRET, TEXT, 'query-value-secret', ...PHONES]) {
        assert.ok(!line.includes(forbidden), `${forbidden} in ${line}`);
      }
      assert.doesNotMatch(line, /[0-9a-f]{64}/i, 'no HMAC digest');
    }
  });
});

test('LOG_LEVEL=ERROR silences request lines and keeps 5xx lines', async (t) => {
  const service = await startService(t, { port: await freePort(), env: { LOG_LEVEL: 'ERROR', WEBHOOK_SECRET: undefined } });
  const headers = (id: string) => ({ 'X-Request-ID': id });
  assert.equal((await fetch(`${service.url}/health/live`, { headers: headers('quiet-1') })).status, 200);
  assert.equal((await fetch(`${service.url}/nope`, { headers: headers('quiet-2') })).status, 404);
  const refused = await postWebhook(service, message('unconfigured'), { headers: headers('loud-1') });
  assert.equal(refused.status, 503);
  assert.equal((await fetch(`${service.url}/health/ready`, { headers: headers('loud-2') })).status, 503);
  // Stop the service and read all it wrote: a silenced line never comes, so waiting for one cannot tell.
  service.child.kill('SIGTERM');
  assert.equal(await service.exited, 0);

  assert.deepEqual(new Set(service.logs.map((entry) => entry.level)), new Set(['ERROR']));
  assert.deepEqual(
    service.logs.map(({ ts: _ts, latency_ms: _latency, request_id: _id, ...rest }) => rest),
    [
      { level: 'ERROR', msg: 'WEBHOOK_SECRET is not set: /webhook answers 503 and /health/ready reports not ready' },
      { level: 'ERROR', client_request_id: 'loud-1', method: 'POST', path: '/webhook', status: 503, dup: false, source: 'webhook', result: 'not_configured' },
      { level: 'ERROR', client_request_id: 'loud-2', method: 'GET', path: '/health/ready', status: 503 },
    ],
  );
});
