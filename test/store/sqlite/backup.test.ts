// Online backup (src/backup.ts) and restore, through the real service and the real command: a
// snapshot taken while messages arrive is consistent, and a fresh service started on it answers
// /stats and listings exactly as the snapshot holds them. And the files of personal data are the
// service user's alone: 0600 for the database, its -wal and -shm and a backup, 0700 for a new folder.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { getJson, message, postAll, postWebhook, runToExit, startService, walk } from '../../support/service.ts';
import { tempDir } from '../../support/temp-dir.ts';

const BACKUP = new URL('../../../src/backup.ts', import.meta.url).pathname;
const mode = (path: string) => statSync(path).mode & 0o777;

test('a backup taken under ingest restores into a fresh service whose /stats and listings match the snapshot', { timeout: 60_000 }, async (t) => {
  const service = await startService(t);
  const before = Array.from({ length: 50 }, (_, n) => message(`before-${n}`, { from: `+9100000${n % 4}`, ts: `2025-01-15T10:00:${String(n).padStart(2, '0')}Z` }));
  await postAll(service, before);
  // Ingest goes on while the backup runs.
  let writing = true;
  const during = (async () => {
    for (let n = 0; writing; n++) assert.equal((await postWebhook(service, message(`during-${n}`, { from: '+919999999999' }))).status, 200);
  })();
  const destination = join(tempDir(t), 'backup.db');
  const result = await runToExit({ DATABASE_URL: `sqlite:///${service.dbPath}` }, BACKUP, [destination]);
  writing = false;
  await during;
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const line = JSON.parse(result.stdout) as { msg: string; messages: number };
  assert.equal(line.msg, 'backup written');
  assert.equal(mode(destination), 0o600);

  // What the snapshot holds, read straight from the file.
  const snapshot = new DatabaseSync(destination, { readOnly: true });
  const ids = (snapshot.prepare('SELECT message_id FROM messages ORDER BY ts_key, message_id').all() as { message_id: string }[]).map((row) => row.message_id);
  const senders = snapshot.prepare('SELECT from_msisdn AS "from", count(*) AS count FROM messages GROUP BY from_msisdn ORDER BY count DESC, from_msisdn ASC').all();
  const ends = snapshot.prepare('SELECT (SELECT ts FROM messages ORDER BY ts_key, message_id LIMIT 1) AS first, (SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1) AS last').get() as { first: string; last: string };
  snapshot.close();
  assert.equal(ids.length, line.messages);
  for (const sent of before) assert.ok(ids.includes(sent.message_id), `${sent.message_id} acknowledged before the backup is in it`);

  // Restore: the copy becomes the database of a fresh service.
  const restoredDir = tempDir(t);
  copyFileSync(destination, join(restoredDir, 'app.db'));
  const restored = await startService(t, { dir: restoredDir });
  const { pages } = await walk(restored, '/messages?limit=100');
  assert.deepEqual(pages.flat(), ids);
  assert.deepEqual((await getJson(restored, '/stats')).body, {
    total_messages: ids.length,
    senders_count: senders.length,
    messages_per_sender: senders.slice(0, 10).map((row) => ({ ...row })),
    first_message_ts: ends.first,
    last_message_ts: ends.last,
  });
  const original = (await getJson(service, '/stats')).body;
  assert.ok((original.total_messages ?? 0) >= ids.length, 'the live database holds at least what the snapshot does');
});

test('the backup command refuses to overwrite a file and writes nothing when it fails', async (t) => {
  const service = await startService(t);
  const existing = join(tempDir(t), 'taken.db');
  writeFileSync(existing, 'keep me');
  const refused = await runToExit({ DATABASE_URL: `sqlite:///${service.dbPath}` }, BACKUP, [existing]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /the destination exists already/);
  const usage = await runToExit({ DATABASE_URL: `sqlite:///${service.dbPath}` }, BACKUP, []);
  assert.equal(usage.code, 2);
});

test('a new database folder is created 0700 and the database, its -wal and -shm 0600', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nested', 'data', 'app.db');
  const service = await startService(t, { env: { DATABASE_URL: `sqlite:///${path}` } });
  assert.equal((await postWebhook(service, message('mode-1'))).status, 200);
  assert.equal(mode(join(dir, 'nested')), 0o700);
  assert.equal(mode(join(dir, 'nested', 'data')), 0o700);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file), 0o600, file);
});

test('a database file an earlier version made world-readable is tightened to 0600 at start', async (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'app.db');
  new DatabaseSync(path).close();
  chmodSync(path, 0o644);
  await startService(t, { dir });
  assert.equal(mode(path), 0o600);
});
