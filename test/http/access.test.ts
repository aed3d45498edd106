// Who may call what: bearer tokens for reads (READ_TOKENS) and scrapes (METRICS_TOKEN), each with a
// _FILE twin and several valid at once; the webhook and the probes never need one. And the Host a
// request names (ALLOWED_HOSTS), against DNS rebinding.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { rawRequest } from '../support/raw-socket.ts';
import { message, postWebhook, runToExit, startService } from '../support/service.ts';
import { tempDir } from '../support/temp-dir.ts';

const TOKEN_A = 'read-token-aaaaaaaaaaaaaaaaaaaaaaaa';
const TOKEN_B = 'read-token-bbbbbbbbbbbbbbbbbbbbbbbb';
const METRICS = 'metrics-token-cccccccccccccccccccc';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

test('with READ_TOKENS and METRICS_TOKEN set, each read route and /metrics answers only a valid bearer token', async (t) => {
  const dir = tempDir(t);
  // The read tokens from a file, one per line, as a Docker or Kubernetes secret would hold them.
  writeFileSync(join(dir, 'read-tokens'), `${TOKEN_A}\n${TOKEN_B}\n`);
  const service = await startService(t, { env: { READ_TOKENS_FILE: join(dir, 'read-tokens'), METRICS_TOKEN: METRICS } });
  assert.ok(!service.logs.some((line) => String(line.msg).includes('READ_TOKENS is not set')));
  assert.equal((await postWebhook(service, message('open-webhook'))).status, 200, 'the webhook needs no token');

  const cases: [string, Record<string, string>, number, string | null][] = [
    ['no token', {}, 401, 'Bearer'],
    ['a wrong token', bearer('read-token-wrong-wrong-wrong-wrong'), 401, 'Bearer error="invalid_token"'],
    ['another scheme', { Authorization: `Basic ${Buffer.from(`x:${TOKEN_A}`).toString('base64')}` }, 401, 'Bearer error="invalid_token"'],
    ['the metrics token', bearer(METRICS), 401, 'Bearer error="invalid_token"'],
    ['the first token', bearer(TOKEN_A), 200, null],
    ['the second token', bearer(TOKEN_B), 200, null],
  ];
  for (const path of ['/messages', '/stats']) {
    for (const [name, headers, status, challenge] of cases) {
      const response = await fetch(`${service.url}${path}`, { headers: { ...headers, 'X-Request-ID': `${path}-${status}` } });
      assert.equal(response.status, status, `${path} with ${name}`);
      assert.equal(response.headers.get('www-authenticate'), challenge, `${path} with ${name}`);
      if (status === 401) assert.deepEqual(await response.json(), { detail: 'not authenticated' });
      else await response.arrayBuffer();
    }
  }
  const listed = await fetch(`${service.url}/messages`, { headers: bearer(TOKEN_B) });
  assert.deepEqual(((await listed.json()) as { data: { message_id: string }[] }).data.map((item) => item.message_id), ['open-webhook']);

  assert.equal((await fetch(`${service.url}/metrics`)).status, 401);
  assert.equal((await fetch(`${service.url}/metrics`, { headers: bearer(TOKEN_A) })).status, 401, 'a read token is not a metrics token');
  assert.equal((await fetch(`${service.url}/metrics`, { headers: bearer(METRICS) })).status, 200);
  for (const probe of ['/health/live', '/health/ready']) assert.equal((await fetch(`${service.url}${probe}`)).status, 200, probe);

  // Refusals say why in the log, and no token, valid or not, is ever written there.
  await service.waitForLog((line) => line.path === '/metrics' && line.status === 200);
  const refusals = service.logs.filter((line) => line.status === 401);
  assert.ok(refusals.some((line) => line.auth === 'missing') && refusals.some((line) => line.auth === 'invalid'));
  const everything = JSON.stringify(service.logs);
  for (const secret of [TOKEN_A, TOKEN_B, METRICS, 'read-token-wrong']) assert.ok(!everything.includes(secret), secret);
});

test('without READ_TOKENS reads stay open, and startup says so in one WARN line', async (t) => {
  const service = await startService(t);
  const warnings = service.logs.filter((line) => line.level === 'WARN' && String(line.msg).startsWith('READ_TOKENS is not set'));
  assert.equal(warnings.length, 1);
  assert.equal((await fetch(`${service.url}/messages`)).status, 200);
  assert.equal((await fetch(`${service.url}/stats`)).status, 200);
});

test('READ_TOKENS and READ_TOKENS_FILE together stop startup with one line naming both', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tokens'), `${TOKEN_A}\n`);
  const { code, stderr } = await runToExit({ WEBHOOK_SECRET: 's', READ_TOKENS: TOKEN_B, READ_TOKENS_FILE: join(dir, 'tokens') });
  assert.equal(code, 2);
  assert.match(stderr, /READ_TOKENS and READ_TOKENS_FILE are both set/);
  assert.ok(!stderr.includes(TOKEN_A) && !stderr.includes(TOKEN_B));
});

test('with ALLOWED_HOSTS, a request for another Host gets 421, a listed one is served, and probes answer any Host', async (t) => {
  const service = await startService(t, { env: { ALLOWED_HOSTS: 'api.example.com, Ingest.Example.COM' } });
  const request = (path: string, host: string) => rawRequest(service, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const rebound = await request('/messages', 'attacker.example');
  assert.match(rebound, /^HTTP\/1\.1 421 /);
  assert.ok(rebound.endsWith('{"detail":"misdirected request"}'));
  assert.match(await request('/stats', '127.0.0.1:8000'), /^HTTP\/1\.1 421 /);
  assert.match(await request('/messages', 'api.example.com'), /^HTTP\/1\.1 200 /);
  assert.match(await request('/messages', 'API.example.com:8443'), /^HTTP\/1\.1 200 /, 'any case, any port');
  assert.match(await request('/stats', 'ingest.example.com'), /^HTTP\/1\.1 200 /);
  assert.match(await request('/health/ready', 'attacker.example'), /^HTTP\/1\.1 200 /);
  // fetch sends Host 127.0.0.1:<port>, which is not listed.
  const webhook = await postWebhook(service, message('wrong-host'));
  assert.equal(webhook.status, 421);
});

test('a request target holding a fragment gets 400: GET /metrics#x does not reach /metrics', async (t) => {
  const service = await startService(t);
  for (const target of ['/metrics#x', '/messages?limit=1#frag', '/health/live#']) {
    const answer = await rawRequest(service, `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Request-ID: fragment\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /, target);
    assert.ok(answer.endsWith('{"detail":"bad request"}'), target);
  }
});
