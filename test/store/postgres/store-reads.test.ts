// The PostgreSQL store's reads against a real server: deadlines, refusals, a read pool apart from
// the writes, the trigram index actually usable by a search, and the feed's commit order when a
// transaction with a lower id commits late. Each test in a schema of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockKeys } from '../../../src/store/postgres/lock-keys.ts';
import { decodeFeedPosition, encodeFeedPosition } from '../../../src/store/postgres/feed-position.ts';
import { listingSql } from '../../../src/store/postgres/message-listing.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { FeedPositionError, ReadUnavailableError } from '../../../src/store/store.ts';
import { eventually, optionsFrom } from '../../support/postgres.ts';
import { postgresHarness, roomy } from '../../support/postgres-store.ts';
import { followUntil, ids, message } from '../conformance/conformance-support.ts';
import { query } from '../conformance/reference-listing.ts';

const refused = (reason: string) => (error: unknown) => error instanceof ReadUnavailableError && error.reason === reason;

test('a read past its deadline is refused with read_timeout, and the next read with time left answers', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  await store.sink.insertMany([message('a')]);
  const origin = (await store.reader.feed({ after: null, from: null, limit: 1 }, roomy())).position;
  await assert.rejects(store.reader.stats({ deadline: Date.now() - 1 }), refused('read_timeout'));
  // A deadline beyond what a timer or statement_timeout can hold is simply far away.
  assert.equal((await store.reader.stats({ deadline: Number.MAX_SAFE_INTEGER })).total_messages, 1);

  // A session holding the table exclusively makes every read wait: the deadline ends the wait.
  const locker = await connect(optionsFrom(harness.database));
  t.after(() => locker.close());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
  await assert.rejects(store.reader.listMessages(query(), { deadline: Date.now() + 200 }), refused('read_timeout'));
  await assert.rejects(store.reader.feed({ after: origin, from: null, limit: 1 }, { deadline: Date.now() + 200 }), refused('read_timeout'));
  await locker.query('ROLLBACK');
  assert.equal((await store.reader.listMessages(query(), roomy())).total, 1);
});

test('reads beyond the read pool and its waiting room are refused with read_busy', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open({ readPoolSize: 1, readWaitLimit: 1 });
  await store.sink.insertMany([message('a')]);
  // The read connection is open and idle: the first read takes it, the second waits, the third is refused.
  await store.reader.stats(roomy());
  const locker = await connect(optionsFrom(harness.database));
  t.after(() => locker.close());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
  const deadline = { deadline: Date.now() + 500 };
  const reads = [store.reader.listMessages(query(), deadline), store.reader.listMessages(query(), deadline), store.reader.listMessages(query(), deadline)];
  const outcomes = await Promise.allSettled(reads);
  await locker.query('ROLLBACK');
  const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof ReadUnavailableError ? outcome.reason.reason : 'answered'));
  assert.deepEqual(reasons.sort(), ['read_busy', 'read_timeout', 'read_timeout']);
});

test('a read answers while every write connection is held, and a closed store refuses reads as read_unavailable', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open({ poolSize: 1 });
  await store.sink.insertMany([message('a')]);
  const holder = await connect(optionsFrom(harness.database));
  t.after(() => holder.close());
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', lockKeys(harness.schema).erasureGate);
  const blocked = store.sink.insertMany([message('b')]);
  await eventually(
    async () => (await harness.admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'", [harness.applicationName])).rows.length === 1,
    'the only write connection waits',
  );
  assert.equal((await store.reader.stats(roomy())).total_messages, 1);
  await holder.query('ROLLBACK');
  assert.deepEqual(await blocked, ['created']);

  await store.lifecycle.close();
  await assert.rejects(store.reader.stats(roomy()), refused('read_unavailable'));
});

test('a search of three characters or more can be served by the trigram index', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  await store.sink.insertMany(Array.from({ length: 50 }, (_, n) => message(`m${n}`, { text: `text number ${n}` })));
  const sql = listingSql(query({ q: 'Number 4%' }));
  const plan = await harness.admin.withConnection(async (connection) => {
    await connection.query('SET enable_seqscan = off');
    const explained = await connection.query(`EXPLAIN ${sql.count}`, sql.countParams);
    await connection.query('RESET enable_seqscan');
    return explained.rows.map((row) => row[0]).join('\n');
  });
  assert.match(plan, /messages_text_trigrams/);
});

test('the feed does not pass a transaction that commits late with a lower id, and delivers it once it commits', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  const origin = (await store.reader.feed({ after: null, from: null, limit: 10 }, roomy())).position;
  // This transaction takes its id first, and stays open while the store commits a message.
  const late = await connect(optionsFrom(harness.database));
  t.after(() => late.close());
  await late.query('BEGIN');
  await late.query(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     VALUES ('late', '+1', '+2', '2025-01-15T10:00:00Z', '2025-01-15T10:00:00.000000000Z', NULL, now())`,
  );
  await store.sink.insertMany([message('early')]);
  const meanwhile = await store.reader.feed({ after: origin, from: null, limit: 10 }, roomy());
  assert.deepEqual(meanwhile.items, [], 'nothing is delivered past a transaction still open');
  await late.query('COMMIT');

  const delivered = await followUntil(store, meanwhile.position, ['late', 'early']);
  assert.deepEqual(ids(delivered.items), ['late', 'early'], 'in commit-id order, nothing skipped');
  assert.deepEqual((await store.reader.feed({ after: delivered.position, from: null, limit: 10 }, roomy())).items, []);
});

test('a filtered feed reads a bounded stretch of other senders per page and moves past it', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  const origin = (await store.reader.feed({ after: null, from: null, limit: 10 }, roomy())).position;
  await store.sink.insertMany(Array.from({ length: 1200 }, (_, n) => message(`other-${String(n).padStart(4, '0')}`)));
  await store.sink.insertMany([message('wanted', { from: '+1999' })]);
  // Once the unfiltered feed has delivered the last of them, every row is below the horizon.
  await followUntil(store, origin, ['wanted'], { limit: 1000 });
  const first = await store.reader.feed({ after: origin, from: '+1999', limit: 10 }, roomy());
  assert.deepEqual(first.items, []);
  assert.equal(decodeFeedPosition(first.position)?.messageId, 'other-0999', 'the first page read 1,000 rows of others and stopped after them');
  const second = await store.reader.feed({ after: first.position, from: '+1999', limit: 10 }, roomy());
  assert.deepEqual(ids(second.items), ['wanted']);
});

test('a position from beyond this database is refused', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  const horizon = (await harness.admin.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text')).rows[0]?.[0] as string;
  for (const position of [{ txid: '18446744073709551615', messageId: '' }, { txid: String(BigInt(horizon) + 1000n), messageId: 'x' }]) {
    await assert.rejects(store.reader.feed({ after: encodeFeedPosition(position), from: null, limit: 1 }, roomy()), FeedPositionError);
  }
});

test('the feed orders transactions by number, not as text: 9 before 10', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  // Rows as if stored by transactions 9, 10 and 100, long finished (below any horizon here).
  await harness.admin.query(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at, txid)
     SELECT 'tx-' || n, '+1', '+2', '2025-01-15T10:00:00Z', '2025-01-15T10:00:00.000000000Z', NULL, now(), n::text::xid8
     FROM unnest('{100,10,9}'::int[]) AS n`,
  );
  const walked = await followUntil(store, encodeFeedPosition({ txid: '0', messageId: '' }), ['tx-9', 'tx-10', 'tx-100'], { limit: 2 });
  assert.deepEqual(ids(walked.items), ['tx-9', 'tx-10', 'tx-100']);
});
