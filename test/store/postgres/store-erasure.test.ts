// Erasure and retention on a real PostgreSQL: erasures racing inserts of the same ids, senders
// erased in chunks, the retention loop driven by an injected clock, one replica purging at a time,
// ingest flowing beside a long purge, and an interrupted purge leaving everything consistent.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { lockKeys } from '../../../src/store/postgres/lock-keys.ts';
import { openDatabase } from '../../../src/store/postgres/open-database.ts';
import { startRetention, type Retention } from '../../../src/store/postgres/retention.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { createPool } from '../../../src/store/postgres/wire/pool.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { eventually, optionsFrom } from '../../support/postgres.ts';
import { countersAgree, postgresHarness, roomy, testClock, type PostgresHarness } from '../../support/postgres-store.ts';
import { message } from '../conformance/conformance-support.ts';
import { query } from '../conformance/reference-listing.ts';

const DAY = 86_400_000;

/**
 * The options of a store beside retentionOn: its own retention loop's first pass, a second after
 * start, would take the retention lock and could make a purge() of the test's end early.
 */
const quietRetention = { retentionFirstPassMs: 3_600_000 };

/** A retention of its own on the harness's schema, run only when the test calls purge(). */
async function retentionOn(t: TestContext, harness: PostgresHarness, now: () => Date, chunk = 500): Promise<Retention> {
  const opened = await openDatabase({ database: harness.database, applicationName: harness.applicationName });
  const pool = createPool({ ...opened.connection, size: 2 });
  const retention = startRetention({
    eraser: { pool, gate: opened.keys.erasureGate, keyedHash: opened.keyedHash, now, chunk, onErased() {}, onFailure() {} },
    lock: opened.keys.retention,
    retentionDays: 1,
    tombstoneDays: 2,
    intervalMs: 3_600_000,
  });
  t.after(async () => {
    await retention.stop();
    await pool.close();
  });
  return retention;
}

test('an erasure racing an insert of the same id either erases the stored message or makes the insert erased', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  const names = Array.from({ length: 40 }, (_, n) => `race-${n}`);
  const outcomes = await Promise.all(names.map((name) => Promise.all([store.sink.insertMany([message(name)]), store.eraser.eraseMessage(name)])));
  for (const [[inserted], erased] of outcomes) {
    assert.ok((inserted === 'created' && erased === 1) || (inserted === 'erased' && erased === 0), `${inserted} with ${erased}`);
  }
  assert.equal((await store.reader.listMessages(query(), roomy())).total, 0);
  assert.deepEqual(await countersAgree(harness.admin), { messages: 0, senders: 0, tombstones: 40 });
});

test('a sender is erased in chunks, all of its messages, counted once in the metrics', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const metrics = createMetrics();
  const store = await harness.open({ metrics, eraseChunkSize: 3 });
  await store.sink.insertMany([...Array.from({ length: 10 }, (_, n) => message(`s-${n}`, { from: '+1700' })), message('other')]);
  assert.equal(await store.eraser.eraseSender('+1700'), 10);
  assert.equal(await store.eraser.eraseMessage('other'), 1);
  const scrape = parseExposition(await metrics.render());
  assert.equal(valueOf(scrape, 'messages_erased_total', { reason: 'sender' }), 10);
  assert.equal(valueOf(scrape, 'messages_erased_total', { reason: 'message' }), 1);
  assert.equal(valueOf(scrape, 'tombstones'), 11);
  assert.deepEqual(await countersAgree(harness.admin), { messages: 0, senders: 0, tombstones: 11 });
});

test('retention erases what was received too long ago, tombstones it, and purges the tombstones later', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const clock = testClock();
  const metrics = createMetrics();
  const store = await harness.open({ now: clock.now, metrics, retentionDays: 1, tombstoneDays: 2, retentionIntervalMs: 20, eraseChunkSize: 3 });
  const listed = async () => (await store.reader.listMessages(query(), roomy())).messages.map((kept) => kept.message_id);
  await store.sink.insertMany(Array.from({ length: 7 }, (_, n) => message(`old-${n}`)));
  clock.advance(DAY / 2);
  await store.sink.insertMany([message('new-0'), message('new-1')]);
  clock.advance(0.6 * DAY);
  await eventually(async () => (await listed()).length === 2, 'the old messages are purged');
  assert.deepEqual(await listed(), ['new-0', 'new-1']);
  assert.deepEqual(await store.sink.insertMany([message('old-3')]), ['erased']);
  assert.deepEqual(await countersAgree(harness.admin), { messages: 2, senders: 1, tombstones: 7 });
  assert.equal(valueOf(parseExposition(await metrics.render()), 'messages_erased_total', { reason: 'retention' }), 7);

  // The old tombstones are now 2.5 days old; the new messages 3.1 days.
  clock.advance(2.5 * DAY);
  await eventually(async () => (await countersAgree(harness.admin)).tombstones === 2 && (await listed()).length === 0, 'old tombstones go, new messages expire');
  assert.deepEqual(await store.sink.insertMany([message('old-3'), message('new-1')]), ['created', 'erased']);
});

test('a replica that cannot take the retention lock purges nothing; once it is free, the purge runs', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const clock = testClock();
  const store = await harness.open({ now: clock.now, ...quietRetention });
  await store.sink.insertMany(Array.from({ length: 5 }, (_, n) => message(`m-${n}`)));
  const retention = await retentionOn(t, harness, () => new Date(clock.now().getTime() + 2 * DAY));
  const other = await connect(optionsFrom(harness.database));
  t.after(() => other.close());
  await other.query('SELECT pg_advisory_lock($1::int, $2::int)', lockKeys(harness.schema).retention);
  assert.deepEqual(await retention.purge(), { messages: 0, tombstones: 0 });
  assert.equal((await countersAgree(harness.admin)).messages, 5);
  await other.query('SELECT pg_advisory_unlock($1::int, $2::int)', lockKeys(harness.schema).retention);
  assert.deepEqual(await retention.purge(), { messages: 5, tombstones: 0 });
});

test('writes keep flowing during a purge of thousands of rows in small transactions, and every counter stays exact', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const clock = testClock();
  const store = await harness.open({ now: clock.now, ...quietRetention });
  for (let start = 0; start < 5000; start += 1000) {
    await store.sink.insertMany(Array.from({ length: 1000 }, (_, n) => message(`old-${start + n}`, { from: `+1${(start + n) % 37}` })));
  }
  clock.advance(2 * DAY);
  const retention = await retentionOn(t, harness, clock.now, 100);
  const purge = retention.purge();
  const writes = Array.from({ length: 50 }, (_, n) => store.sink.insertMany([message(`new-${n}`, { from: `+1${n % 5}` })]));
  assert.deepEqual(await Promise.all(writes), Array(50).fill(['created']));
  assert.deepEqual(await purge, { messages: 5000, tombstones: 0 });
  assert.deepEqual(await countersAgree(harness.admin), { messages: 50, senders: 5, tombstones: 5000 });
});

test('a purge cut off mid-batch leaves the batch undone, the rest whole, and the counters exact', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const clock = testClock();
  const store = await harness.open({ now: clock.now, ...quietRetention });
  await store.sink.insertMany(Array.from({ length: 30 }, (_, n) => message(`m-${n}`, { from: `+1${n % 4}` })));
  const retention = await retentionOn(t, harness, () => new Date(clock.now().getTime() + 2 * DAY), 10);
  const holder = await connect(optionsFrom(harness.database));
  t.after(() => holder.close());
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', lockKeys(harness.schema).erasureGate);
  // Watched from the start: it fails while the test is still awaiting the termination.
  const cut = assert.rejects(retention.purge());
  const waiting = async () =>
    (await harness.admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'", [harness.applicationName])).rows;
  await eventually(async () => (await waiting()).length === 1, 'the purge waits for the gate');
  const [[pid]] = (await waiting()) as [[string]];
  await harness.admin.query('SELECT pg_terminate_backend($1::int)', [pid]);
  await cut;
  await holder.query('ROLLBACK');
  assert.deepEqual(await countersAgree(harness.admin), { messages: 30, senders: 4, tombstones: 0 });
  assert.deepEqual(await retention.purge(), { messages: 30, tombstones: 0 });
  assert.deepEqual(await countersAgree(harness.admin), { messages: 0, senders: 0, tombstones: 30 });
});
