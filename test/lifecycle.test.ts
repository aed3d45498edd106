// The service as a process: probes, fail-closed startup, kill -9, SIGTERM and SIGINT, a port in
// use, a database that cannot be opened.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { signBody } from '../src/ingest/schemes/x-signature.ts';
import { postgresUrl } from './support/postgres.ts';
import { freePort, message, postWebhook, runToExit, SECRET, startService, storedRows, type Service } from './support/service.ts';
import { tempDir } from './support/temp-dir.ts';

test('GET /health/live answers 200 {"status":"live"}', async (t) => {
  const service = await startService(t);
  const response = await fetch(`${service.url}/health/live`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'live' });
});

test('GET /health/ready answers 200 {"status":"ready"} with a secret and a database', async (t) => {
  const service = await startService(t);
  const response = await fetch(`${service.url}/health/ready`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ready' });
});

test('without WEBHOOK_SECRET the service starts, fails closed and is not ready', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_SECRET: '' } });
  assert.ok(service.logs.some((line) => line.level === 'ERROR' && String(line.msg).includes('WEBHOOK_SECRET')));

  const reply = await postWebhook(service, message('unconfigured-1'), { secret: '' });
  assert.equal(reply.status, 503);
  assert.deepEqual(reply.body, { detail: 'webhook secret not configured' });
  assert.deepEqual(await storedRows(service), []);

  const ready = await fetch(`${service.url}/health/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'not_ready', checks: { webhook_secret: 'missing', database: 'ok' } });
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('a message acknowledged before kill -9 is stored after a restart on the same file', async (t) => {
  const first = await startService(t);
  const ids = Array.from({ length: 20 }, (_, i) => `crash-${i}`);
  for (const id of ids) assert.equal((await postWebhook(first, message(id))).status, 200);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');

  const second = await startService(t, { dir: first.dir });
  assert.deepEqual((await storedRows(second)).map((row) => row.message_id).sort(), [...ids].sort());
  assert.equal((await postWebhook(second, message('crash-0'))).status, 200);
  assert.equal((await storedRows(second)).length, ids.length);
});

test('SIGTERM lets in-flight requests finish, then exits 0 with the database closed', async (t) => {
  const service = await startService(t);
  // Start three requests and send only half of each body, so they are in flight for certain.
  const inFlight = ['term-1', 'term-2', 'term-3'].map((id) => startSlowPost(service, JSON.stringify(message(id))));
  await Promise.all(inFlight.map((post) => post.headersSent));
  service.child.kill('SIGTERM');
  await service.waitForLog((line) => line.msg === 'shutting down');
  for (const post of inFlight) post.finish();

  const replies = await Promise.all(inFlight.map((post) => post.reply));
  assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200]);
  assert.equal(await service.exited, 0);
  assert.ok(service.logs.some((line) => line.msg === 'stopped'));
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['term-1', 'term-2', 'term-3']);
});

test('SIGINT also stops the service with exit code 0', async (t) => {
  const service = await startService(t);
  service.child.kill('SIGINT');
  assert.equal(await service.exited, 0);
});

function startSlowPost(service: Service, raw: string) {
  const data = Buffer.from(raw);
  const half = Math.floor(data.length / 2);
  // Expect: 100-continue makes the server confirm it has parsed the headers: from the moment the
  // client sees "100 Continue", the request is in flight on the server, not just in a socket buffer.
  const req = request(`${service.url}/webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': data.length,
      'X-Signature': signBody(SECRET, data),
      Expect: '100-continue',
    },
  });
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  const headersSent = new Promise<void>((resolve) => {
    req.on('continue', () => req.write(data.subarray(0, half), () => resolve()));
  });
  return { headersSent, reply, finish: () => req.end(data.subarray(half)) };
}

test('a port already in use stops startup with one JSON line and a non-zero exit', async (t) => {
  const first = await startService(t);
  const port = new URL(first.url).port;
  const { code, stdout, stderr } = await runToExit({ WEBHOOK_SECRET: 's', HOST: '127.0.0.1', PORT: port, DATABASE_URL: 'sqlite:///:memory:' });
  assert.notEqual(code, 0);
  assert.equal(stderr, '');
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
  const failure = lines.find((line) => line.msg === 'cannot listen on HOST:PORT');
  assert.ok(failure);
  assert.equal(failure.code, 'EADDRINUSE');
});

/** Runs the service on `databaseUrl` until it exits, and returns its exit code and its one failure line. */
async function failedStartup(databaseUrl: string): Promise<{ code: number | null; failure: Record<string, unknown>; output: string }> {
  const { code, stdout, stderr } = await runToExit({ WEBHOOK_SECRET: SECRET, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: databaseUrl });
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const failures = lines.filter((line) => line.msg === 'cannot open the database named by DATABASE_URL');
  assert.equal(failures.length, 1, stdout + stderr);
  assert.equal(failures[0]?.level, 'ERROR');
  return { code, failure: failures[0] as Record<string, unknown>, output: stdout + stderr };
}

test('a SQLite path that cannot be a database stops startup with one line giving the reason as a code, and a non-zero exit', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a-file'), '');
  const { code, failure, output } = await failedStartup(`sqlite:///${join(dir, 'a-file', 'app.db')}`);
  assert.equal(code, 1);
  assert.equal(failure.code, 'ENOTDIR');
  assert.ok(!output.includes(dir), 'the path stays out of the log');
});

test('a SQLite folder that mkdir cannot make, though its parent exists (/proc), fails at once instead of hanging', { timeout: 30_000 }, async (t) => {
  if (process.platform !== 'linux') return t.skip('needs Linux /proc');
  const { code, failure } = await failedStartup('sqlite:////proc/no-such-folder/app.db');
  assert.equal(code, 1);
  assert.equal(failure.code, 'ENOENT');
});

test('a PostgreSQL that refuses the connection or the password stops startup with a code telling the two apart, and no secret in the log', async (t) => {
  if (postgresUrl(t) === null) return;
  const reachable = new URL(process.env.TEST_DATABASE_URL as string);
  const password = decodeURIComponent(reachable.password);
  const wrongPassword = 'wrong-password-0f3a9c';

  const refused = new URL(reachable);
  refused.port = String(await freePort());
  const closedPort = await failedStartup(refused.href);
  assert.equal(closedPort.code, 1);
  assert.equal(closedPort.failure.code, 'ECONNREFUSED');

  const misspelled = new URL(reachable);
  misspelled.password = wrongPassword;
  const badPassword = await failedStartup(misspelled.href);
  assert.equal(badPassword.code, 1);
  // SQLSTATE 28P01: invalid_password.
  assert.equal(badPassword.failure.code, '28P01');

  for (const { output } of [closedPort, badPassword]) {
    for (const secret of [password, wrongPassword, refused.href, misspelled.href]) {
      assert.ok(secret === '' || !output.includes(secret), 'neither password nor URL is logged');
    }
    assert.ok(!output.includes('password authentication failed'), "the server's text stays out");
  }
});
