import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { runToExit, startService, type Service } from '../support/service.ts';

const HEALTHCHECK = new URL('../../src/healthcheck.ts', import.meta.url).pathname;

function portOf(service: Service): string {
  return new URL(service.url).port;
}

/** Runs the healthcheck as the container does: same PORT and HOST variables as the service. */
function runHealthcheck(port: string) {
  return runToExit({ PORT: port, HOST: '127.0.0.1' }, HEALTHCHECK);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? String(address.port) : '');
    });
  });
}

/** The service's log lines for /health/ready, once `count` have arrived (a log line follows its response). */
async function readinessProbes(service: Service, count: number) {
  const probes = () => service.logs.filter((line) => line.path === '/health/ready');
  for (let attempt = 0; attempt < 500 && probes().length < count; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return probes();
}

test('the healthcheck exits 0 when the service answers /health/ready with 200', async (t) => {
  const service = await startService(t);
  const result = await runHealthcheck(portOf(service));
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'healthy: GET /health/ready answered 200\n');
  assert.deepEqual((await readinessProbes(service, 1)).map((line) => [line.method, line.status]), [['GET', 200]]);
});

test('the healthcheck exits 1 when the service is up but not ready (no webhook secret)', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_SECRET: undefined } });
  const result = await runHealthcheck(portOf(service));
  assert.equal(result.code, 1);
  assert.equal(result.stdout, 'unhealthy: GET /health/ready answered 503\n');
  assert.deepEqual((await readinessProbes(service, 1)).map((line) => line.status), [503]);
});

test('the healthcheck exits 1 when nothing listens on the port', async () => {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const result = await runHealthcheck(port);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, 'unhealthy: ECONNREFUSED\n');
});

test('the healthcheck gives up and exits 1 when the port accepts but never answers', async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  const port = await listen(silent);
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const result = await runHealthcheck(port);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, 'unhealthy: no answer within 2000 ms\n');
  assert.equal(sockets.length, 1);
});

test('the healthcheck exits 2 and names the variable when PORT is invalid', async () => {
  const result = await runHealthcheck('eighty');
  assert.equal(result.code, 2);
  assert.match(result.stdout, /^unhealthy: invalid configuration: PORT: /);
});
