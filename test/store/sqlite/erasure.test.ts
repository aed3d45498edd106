// Erasure and retention on the SQLite store, driven by an injected clock: expired messages go with
// their tombstones, tombstones go after their period, the search index forgets erased texts (indexed
// or not yet), and ids are never given again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { message } from '../../support/service.ts';
import { tempDir } from '../../support/temp-dir.ts';

const DAY = 86_400_000;
const roomy = () => ({ deadline: Date.now() + 30_000 });
const inbound = (id: string, text: string | null = `text of ${id}`) => ({ ...message(id), text });

async function openAt(t: TestContext, clock: { now: number }, options: { retentionDays?: number; tombstoneDays?: number } = {}) {
  const path = join(tempDir(t, 'sqlite-erasure-'), 'app.db');
  const metrics = createMetrics();
  // The retention loop runs every 20 ms here, each pass with the test's clock.
  const store = await openSqliteStore({ path, queueLimit: 100, metrics, now: () => new Date(clock.now), retentionIntervalMs: 20, ...options });
  t.after(() => store.lifecycle.close());
  const gauge = async (name: string, labels: Record<string, string> = {}) => valueOf(parseExposition(await metrics.render()), name, labels);
  return { store, path, gauge };
}

const listIds = async (store: Store, q: string | null = null) =>
  (await store.reader.listMessages({ limit: 100, offset: 0, from: null, sinceKey: null, q, after: null, maxBytes: 1 << 20 }, roomy())).messages.map(
    (m) => m.message_id,
  );

/** Waits for `done` to hold, a few seconds at most (the retention loop runs every 20 ms). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 250; attempt++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('the retention loop did not get there');
}

test('retention erases what was received longer ago than RETENTION_DAYS, leaves tombstones, and purges them after their period', async (t) => {
  const clock = { now: Date.parse('2025-03-01T00:00:00Z') };
  const { store, gauge } = await openAt(t, clock, { retentionDays: 1, tombstoneDays: 3 });
  await store.sink.insertMany(['old-1', 'old-2', 'old-3'].map((id) => inbound(id)));
  clock.now += 2 * DAY;
  await store.sink.insertMany([inbound('new-1')]);
  await until(async () => (await gauge('messages_stored')) === 1);
  assert.deepEqual(await listIds(store), ['new-1']);
  const stats = await store.reader.stats(roomy());
  assert.deepEqual([stats.total_messages, stats.senders_count, stats.messages_per_sender], [1, 1, [{ from: '+919876543210', count: 1 }]]);
  assert.equal(await gauge('tombstones'), 3);
  assert.equal(await gauge('messages_erased_total', { reason: 'retention' }), 3);
  // An expired id redelivered within the tombstone period: acknowledged, not stored.
  assert.deepEqual(await store.sink.insertMany([inbound('old-1')]), ['erased']);

  // Past the tombstone period (and new-1's retention), the tombstones go too.
  clock.now += 4 * DAY;
  await until(async () => (await gauge('tombstones')) === 1);
  assert.deepEqual(await listIds(store), []);
  assert.deepEqual(await store.sink.insertMany([inbound('old-1')]), ['created'], 'after the period, an id is new again');
});

test('an erased text is found by no search again, whether the search index had reached it or not', async (t) => {
  const clock = { now: Date.parse('2025-03-01T00:00:00Z') };
  const { store, path, gauge } = await openAt(t, clock);
  await store.sink.insertMany([inbound('indexed', 'quarterly zanzibar report'), inbound('kept', 'another zanzibar note')]);
  // The index follows within 100 ms of a write.
  await until(async () => (await gauge('search_index_backlog_messages')) === 0);
  await store.sink.insertMany([inbound('fresh', 'brand new zanzibar memo')]);
  assert.equal(await store.eraser.eraseMessage('indexed'), 1);
  assert.equal(await store.eraser.eraseMessage('fresh'), 1);
  assert.deepEqual(await listIds(store, 'zanzibar'), ['kept']);
  await until(async () => (await gauge('search_index_backlog_messages')) === 0);
  assert.deepEqual(await listIds(store, 'zanzibar'), ['kept']);
  // The index itself holds the kept row alone: erased texts left nothing behind.
  const db = new DatabaseSync(path, { readOnly: true });
  t.after(() => db.close());
  const matches = db.prepare(`SELECT rowid FROM messages_text WHERE messages_text MATCH '"zan" AND "bar"'`).all() as { rowid: number }[];
  const kept = db.prepare(`SELECT id FROM messages WHERE message_id = 'kept'`).get() as { id: number };
  assert.deepEqual(matches.map((row) => row.rowid), [kept.id]);
});

test('ids are never given again: after the newest message is erased, the next one gets a higher id', async (t) => {
  const clock = { now: Date.parse('2025-03-01T00:00:00Z') };
  const { store, path } = await openAt(t, clock);
  await store.sink.insertMany([inbound('first'), inbound('newest')]);
  await store.eraser.eraseMessage('newest');
  await store.sink.insertMany([inbound('next')]);
  const db = new DatabaseSync(path, { readOnly: true });
  t.after(() => db.close());
  const ids = Object.fromEntries((db.prepare('SELECT message_id, id FROM messages').all() as { message_id: string; id: number }[]).map((r) => [r.message_id, r.id]));
  assert.deepEqual(ids, { first: 1, next: 3 });
});

test('an erasure of a sender cut short by close fails instead of answering a partial count as done', async (t) => {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const { store } = await openAt(t, clock);
  for (let n = 0; n < 3_000; n += 100) {
    await store.sink.insertMany(Array.from({ length: 100 }, (_, k) => ({ ...inbound(`s-${n + k}`), from: '+15550009999' })));
  }
  const erasing = store.eraser.eraseSender('+15550009999');
  // The first chunk is under way; close lets it finish and stops the writer before the rest.
  const closing = store.lifecycle.close();
  const outcome = await erasing.then((count) => ({ count }), (error: unknown) => ({ error }));
  await closing;
  assert.ok('error' in outcome || outcome.count === 3_000, `a partial count reads as done: ${JSON.stringify(outcome)}`);
});
