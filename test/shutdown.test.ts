import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { sqliteOnly } from './support/backend.ts';
import { openSocket } from './support/raw-socket.ts';
import { message, postWebhook, startService, storedRows } from './support/service.ts';

// That requests already in flight are answered is pinned in lifecycle.test.ts, with bodies held
// half-sent so they are in flight for certain; here a burst meets the signal at an arbitrary point.
test('SIGTERM during a burst: every 200 is stored, the database closes cleanly, exit 0', async (t) => {
  const service = await startService(t);
  const ids = Array.from({ length: 100 }, (_, n) => `shutdown-${n}`);
  let signalled = false;
  const replies = await Promise.all(
    ids.map((id) =>
      postWebhook(service, message(id)).then(
        (reply) => {
          // Stop as soon as the first answer is in, while the others are still on their way.
          if (!signalled) {
            signalled = true;
            service.child.kill('SIGTERM');
          }
          return reply.status;
        },
        () => 0, // refused: the server had stopped accepting
      ),
    ),
  );
  assert.equal(await service.exited, 0);
  // The last connection to close checkpoints the write-ahead log and removes it.
  if (service.backend === 'sqlite') assert.equal(existsSync(`${service.dbPath}-wal`), false);
  assert.ok(replies.every((status) => status === 200 || status === 0));
  const answered = ids.filter((_, n) => replies[n] === 200);
  assert.ok(answered.length > 0);
  const stored = new Set((await storedRows(service)).map((row) => row.message_id));
  assert.deepEqual(answered.filter((id) => !stored.has(id)), [], 'every 200 is stored');
  assert.ok(service.logs.some((line) => line.msg === 'stopped'));
});

// A bound on the wait, not on speed: without it, a service that wrongly stays up would hang the suite.
test('a writer thread that dies stops the service with exit 1, for its supervisor to restart it', { timeout: 20_000 }, async (t) => {
  if (sqliteOnly(t, 'a preload terminates the SQLite writer thread (PostgreSQL has none)')) return;
  const stopWriter = new URL('./support/stop-writer-on-signal.ts', import.meta.url).pathname;
  const service = await startService(t, { nodeArgs: ['--import', stopWriter] });
  assert.equal((await postWebhook(service, message('before-crash'))).status, 200);

  service.child.kill('SIGUSR2');
  await service.waitForLog((line) => line.msg === 'the database writer stopped: writes answer 503 and readiness fails');
  assert.equal(await service.exited, 1);
  assert.ok(service.logs.some((line) => line.msg === 'shutting down' && line.reason === 'writer_stopped' && line.level === 'ERROR'));
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['before-crash']);
});

test('a writer that dies while a SIGTERM shutdown is under way still ends the process with exit 1', { timeout: 20_000 }, async (t) => {
  if (sqliteOnly(t, 'a preload terminates the SQLite writer thread (PostgreSQL has none)')) return;
  const stopWriter = new URL('./support/stop-writer-on-signal.ts', import.meta.url).pathname;
  const service = await startService(t, { nodeArgs: ['--import', stopWriter] });
  // A request in flight, its body half sent, keeps the shutdown waiting.
  const socket = await openSocket(service);
  t.after(() => socket.destroy());
  const invited = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write(
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n' +
      `X-Signature: ${'0'.repeat(64)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await invited;

  service.child.kill('SIGTERM');
  await service.waitForLog((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM');
  service.child.kill('SIGUSR2');
  await service.waitForLog((line) => line.msg === 'the database writer stopped: writes answer 503 and readiness fails');
  socket.destroy();
  assert.equal(await service.exited, 1);
});
