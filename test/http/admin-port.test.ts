// ADMIN_PORT: an internal listener for probes and scrapes. With it, /metrics leaves the public port,
// and probes never compete with public clients for MAX_CONNECTIONS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition } from '../support/exposition.ts';
import { openSocket } from '../support/raw-socket.ts';
import { freePort, runToExit, startService } from '../support/service.ts';

const HEALTHCHECK = new URL('../../src/healthcheck.ts', import.meta.url).pathname;

test('with ADMIN_PORT, probes and /metrics answer there, /metrics leaves the public port, and nothing else is served there', async (t) => {
  const adminPort = await freePort();
  const service = await startService(t, { env: { ADMIN_PORT: String(adminPort) } });
  const admin = `http://127.0.0.1:${adminPort}`;
  await service.waitForLog((line) => line.msg === 'admin listening' && line.port === adminPort && line.host === '127.0.0.1');

  assert.equal((await fetch(`${service.url}/metrics`)).status, 404);
  const scrape = await fetch(`${admin}/metrics`);
  assert.equal(scrape.status, 200);
  assert.ok(parseExposition(await scrape.text()).has('http_requests_total'));
  for (const probe of ['/health/live', '/health/ready']) {
    assert.equal((await fetch(`${admin}${probe}`)).status, 200, `${probe} on the admin port`);
    assert.equal((await fetch(`${service.url}${probe}`)).status, 200, `${probe} on the public port`);
  }
  for (const path of ['/messages', '/stats', '/webhook']) {
    const response = await fetch(`${admin}${path}`);
    assert.equal(response.status, 404, `${path} is not on the admin port`);
    assert.deepEqual(await response.json(), { detail: 'not found' });
  }
  assert.equal((await fetch(`${service.url}/messages`)).status, 200);
});

test('probes on ADMIN_PORT answer while public clients hold every one of MAX_CONNECTIONS, and the healthcheck uses it', async (t) => {
  const adminPort = await freePort();
  const service = await startService(t, { env: { ADMIN_PORT: String(adminPort), MAX_CONNECTIONS: '2' } });
  const held = [await openSocket(service), await openSocket(service)];
  t.after(() => held.forEach((socket) => socket.destroy()));
  // The public port has no room left: a new connection there is closed on arrival.
  await assert.rejects(fetch(`${service.url}/health/live`));
  assert.equal((await fetch(`http://127.0.0.1:${adminPort}/health/ready`)).status, 200);

  // PORT names the public port, full; the healthcheck probes ADMIN_PORT instead.
  const result = await runToExit({ PORT: new URL(service.url).port, ADMIN_PORT: String(adminPort), HOST: '127.0.0.1' }, HEALTHCHECK);
  assert.equal(result.stdout, 'healthy: GET /health/ready answered 200\n');
  assert.equal(result.code, 0);
});

test('ADMIN_PORT equal to PORT stops startup with one line naming it', async () => {
  const { code, stderr } = await runToExit({ WEBHOOK_SECRET: 's', PORT: '8123', ADMIN_PORT: '8123' });
  assert.equal(code, 2);
  assert.match(stderr, /ADMIN_PORT: must differ from PORT/);
});
