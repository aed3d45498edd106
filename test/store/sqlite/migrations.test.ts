import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { migrate, MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { normalizeTimestamp } from '../../../src/model/message.ts';
import { getJson, message, postAll, postWebhook, startService, type Message } from '../../support/service.ts';
import { tempDir } from '../../support/temp-dir.ts';

/** A database as the first release left it: schema version 1, rows already stored. */
function createVersionOneDatabase(path: string, rows: readonly Message[]): void {
  const db = new DatabaseSync(path);
  db.exec(MIGRATIONS[0] as string);
  db.exec('PRAGMA user_version = 1');
  const insert = db.prepare('INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const row of rows) insert.run(row.message_id, row.from, row.to, row.ts, row.text ?? null, '2025-01-01T00:00:00.000Z');
  db.close();
}

const SPELLINGS = [
  '2025-01-15T10:00:00Z',
  '2025-01-15T10:00:00.5Z',
  '2025-01-15T10:00:00.05Z',
  '2025-01-15T10:00:00.000Z',
  '2025-01-15T10:00:00.123456Z',
  '2025-01-15T10:00:00.999999999Z',
  '2024-02-29T23:59:59Z',
  '1999-12-31T23:59:59.1Z',
];

test('migration 2 computes in SQL the same sort key as normalizeTimestamp', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(MIGRATIONS[0] as string);
  db.exec('PRAGMA user_version = 1');
  const insert = db.prepare("INSERT INTO messages VALUES (?, '+1', '+2', ?, NULL, 'x')");
  SPELLINGS.forEach((ts, i) => insert.run(`id-${i}`, ts));
  assert.equal(migrate(db), MIGRATIONS.length);
  const rows = db.prepare('SELECT ts, ts_key FROM messages').all() as { ts: string; ts_key: string }[];
  assert.equal(rows.length, SPELLINGS.length);
  for (const { ts, ts_key } of rows) assert.equal(ts_key, normalizeTimestamp(ts), ts);
  db.close();
});

test('a database written before the read API is upgraded on start, its rows listed, searched and counted', async (t) => {
  const dir = tempDir(t, 'webhook-migrate-');
  const old: Message[] = [
    message('old-3', { from: '+911111111111', ts: '2025-01-15T10:00:00.5Z', text: 'Quarterly INVOICE attached' }),
    message('old-1', { from: '+922222222222', ts: '2025-01-15T10:00:00Z', text: 'first' }),
    message('old-2', { from: '+911111111111', ts: '2025-01-15T10:00:00.000Z', text: null }),
  ];
  createVersionOneDatabase(join(dir, 'app.db'), old);
  const service = await startService(t, { dir });

  const listed = await getJson(service, '/messages');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body, { data: [old[1], old[2], old[0]], total: 3, limit: 50, offset: 0 });
  assert.deepEqual((await getJson(service, '/messages?q=invoice')).body.data, [old[0]]);
  assert.equal((await getJson(service, '/messages?from=%2B911111111111')).body.total, 2);
  assert.deepEqual((await getJson(service, '/stats')).body, {
    total_messages: 3,
    senders_count: 2,
    messages_per_sender: [{ from: '+911111111111', count: 2 }, { from: '+922222222222', count: 1 }],
    first_message_ts: '2025-01-15T10:00:00Z',
    last_message_ts: '2025-01-15T10:00:00.5Z',
  });

  // The backfilled counters keep counting: a duplicate of an old row changes nothing, a new one adds.
  assert.equal((await postWebhook(service, message('old-1', { from: '+933333333333' }))).status, 200);
  await postAll(service, [message('new-1', { from: '+922222222222', ts: '2025-01-16T00:00:00Z', text: 'an invoice' })]);
  const stats = (await getJson(service, '/stats')).body;
  assert.equal(stats.total_messages, 4);
  assert.equal(stats.senders_count, 2);
  assert.deepEqual(stats.messages_per_sender, [{ from: '+911111111111', count: 2 }, { from: '+922222222222', count: 2 }]);
  assert.equal((await getJson(service, '/messages?q=INVOICE')).body.total, 2);
});

test('a database from a newer build is refused at startup', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  assert.throws(() => migrate(db), /newer than this build supports/);
  db.close();
});
