// Retention through the real service: RETENTION_DAYS erases what was received longer ago, soon after
// start and then continuously, and a kill -9 in the middle of a purge leaves every derived figure
// exact: the totals, the per-sender counts and the ten busiest match the rows that are left.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { sqliteOnly } from '../support/backend.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { seedMessages } from '../support/seed.ts';
import { getJson, message, postWebhook, startService, storedRows } from '../support/service.ts';
import { tempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const longAgo = new Date(Date.now() - 3 * DAY);

test('with RETENTION_DAYS, messages received longer ago are erased soon after start; recent ones stay', async (t) => {
  const dir = tempDir(t);
  await seedMessages(t, dir, 30, (n) => ({ text: null, ...message(`old-${n}`), from: `+9100000${n % 3}` }), longAgo);
  const service = await startService(t, { dir, env: { RETENTION_DAYS: '2' } });
  assert.equal((await postWebhook(service, message('recent-1'))).status, 200);
  const pass = await service.waitForLog((line) => line.msg === 'retention pass');
  assert.equal(pass.erased, 30);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['recent-1']);
  const stats = await getJson(service, '/stats');
  assert.deepEqual([stats.body.total_messages, stats.body.senders_count], [1, 1]);
  // An expired id redelivered is acknowledged and not stored again.
  assert.equal((await postWebhook(service, message('old-7'))).status, 200);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['recent-1']);
});

test('a kill -9 in the middle of a purge leaves totals, sender counts and the ten busiest exact', { timeout: 60_000 }, async (t) => {
  if (sqliteOnly(t, 'the check reads every figure derived from the rows straight from the file (on PostgreSQL, store/postgres/store-erasure.test.ts cuts a purge off mid-batch)')) return;
  const dir = tempDir(t);
  // 20,000 expired messages from 50 senders of uneven activity: about 40 chunks of 500 to purge.
  await seedMessages(t, dir, 20_000, (n) => ({ text: null, ...message(`old-${n}`), from: `+91000000${String(n % 50 < 10 ? n % 50 : (n * 7) % 50).padStart(2, '0')}` }), longAgo);
  const service = await startService(t, { dir, env: { RETENTION_DAYS: '2' } });
  // The first pass starts a second after startup: kill the service as soon as it has begun.
  for (let stored = 20_000; stored === 20_000; ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    stored = valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'messages_stored') ?? 20_000;
  }
  service.child.kill('SIGKILL');
  await service.exited;

  const db = new DatabaseSync(`${dir}/app.db`);
  t.after(() => db.close());
  const left = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  assert.ok(left > 0 && left < 20_000, `the kill came in the middle of the purge (${left} left)`);
  assertConsistent(db, left);
});

/** Every figure derived from the rows agrees with the rows, whatever was interrupted. */
function assertConsistent(db: DatabaseSync, rows: number): void {
  const totals = db.prepare('SELECT message_count, sender_count, tombstone_count FROM message_totals').get() as Record<string, number>;
  const senders = db.prepare('SELECT from_msisdn, count(*) AS n FROM messages GROUP BY from_msisdn ORDER BY n DESC, from_msisdn ASC').all() as { from_msisdn: string; n: number }[];
  assert.equal(totals.message_count, rows);
  assert.equal(totals.sender_count, senders.length);
  assert.equal(totals.tombstone_count, (db.prepare('SELECT count(*) AS n FROM erased_ids').get() as { n: number }).n);
  assert.equal(totals.tombstone_count, 20_000 - rows, 'one tombstone for each message erased');
  const counted = db.prepare('SELECT from_msisdn, message_count AS n FROM sender_counts ORDER BY n DESC, from_msisdn ASC').all();
  assert.deepEqual(counted.map((row) => ({ ...row })), senders.map((row) => ({ ...row })));
  const top = db.prepare('SELECT from_msisdn, message_count AS n FROM top_senders ORDER BY n DESC, from_msisdn ASC').all();
  assert.deepEqual(top.map((row) => ({ ...row })), senders.slice(0, 10).map((row) => ({ ...row })));
}
