// The PostgreSQL store's write path against a real server: replicas racing on the same ids, a
// connection killed mid-batch, a deadlock retried, one bad row isolated, U+0000 refused, and the
// queue bound. Each test in a schema of its own; skipped without TEST_DATABASE_URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../src/observability/log.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { MessageWriteError } from '../../../src/store/store.ts';
import { lockKeys } from '../../../src/store/postgres/lock-keys.ts';
import { UnstorableMessageError } from '../../../src/store/postgres/unstorable-message.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { StoreUnavailableError } from '../../../src/store/store.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { eventually, optionsFrom } from '../../support/postgres.ts';
import { countersAgree, postgresHarness, roomy } from '../../support/postgres-store.ts';
import { message } from '../conformance/conformance-support.ts';
import { query } from '../conformance/reference-listing.ts';

const isUnavailable = (reason: string) => (error: unknown) => error instanceof StoreUnavailableError && error.reason === reason;

test('two replicas inserting the same ids at once store each once, and every counter stays exact', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const [one, two] = await Promise.all([harness.open(), harness.open()]);
  assert.ok(one !== undefined && two !== undefined);
  const senders = ['+1001', '+1002', '+1003', '+1004', '+1005'];
  const batch = (offset: number) => Array.from({ length: 300 }, (_, n) => message(`id-${(n * 7 + offset) % 400}`, { from: senders[n % 5] as string }));
  const calls = [1, 2, 3, 4].flatMap((round) => [{ store: one, messages: batch(round) }, { store: two, messages: batch(round * 3) }]);
  const results = await Promise.all(calls.map((call) => call.store.sink.insertMany(call.messages)));
  const distinct = new Set(calls.flatMap((call) => call.messages.map((sent) => sent.message_id)));
  assert.equal(results.flat().filter((result) => result === 'created').length, distinct.size, 'one created per distinct id, across both replicas');
  const counters = await countersAgree(harness.admin);
  assert.equal(counters.messages, distinct.size);
  assert.equal((await one.reader.stats(roomy())).total_messages, distinct.size);
  assert.equal((await two.reader.listMessages(query(), roomy())).total, distinct.size);
});

test('a batch whose connection is terminated mid-way answers connection_lost, stores nothing, and a retry stores it', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const metrics = createMetrics();
  const lines: string[] = [];
  const store = await harness.open({ metrics, log: createLogger({ level: 'DEBUG', write: (line) => lines.push(line) }) });
  // Another session holds the erasure gate, so the batch waits inside its transaction.
  const holder = await connect(optionsFrom(harness.database));
  t.after(() => holder.close());
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', lockKeys(harness.schema).erasureGate);
  // Watched from the start: it fails while the test is still awaiting the termination.
  const refused = assert.rejects(store.sink.insertMany([message('a'), message('b')]), isUnavailable('connection_lost'));
  const waiting = async () =>
    (await harness.admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'", [harness.applicationName])).rows;
  await eventually(async () => (await waiting()).length === 1, 'the batch waits for the gate');
  const [[pid]] = (await waiting()) as [[string]];
  await harness.admin.query('SELECT pg_terminate_backend($1::int)', [pid]);
  await refused;
  await holder.query('ROLLBACK');

  assert.equal((await countersAgree(harness.admin)).messages, 0, 'nothing of the batch was stored');
  assert.deepEqual(await store.sink.insertMany([message('a'), message('b')]), ['created', 'created']);
  const scrape = parseExposition(await metrics.render());
  assert.equal(valueOf(scrape, 'postgres_connection_errors_total', { pool: 'write' }), 1);
  assert.equal(valueOf(scrape, 'write_batches_failed_total'), 1);
  // Its commit was in the pipeline when the connection went: the line does not claim a rollback.
  const failures = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => String(entry.msg).startsWith('a write batch failed'));
  assert.deepEqual(
    failures.map(({ msg, outcome_unknown }) => ({ msg, outcome_unknown })),
    [{ msg: 'a write batch failed: its commit was sent but never confirmed', outcome_unknown: true }],
  );
});

test('a batch chosen as a deadlock victim runs again and is stored once', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const metrics = createMetrics();
  const store = await harness.open({ metrics });
  await store.sink.insertMany([message('seed', { from: '+1777' })]);
  // The other session locks the sender's counter row; the batch inserts 'x', then waits for that
  // row; the other session then inserts 'x' too and waits for the batch: a cycle.
  const other = await connect(optionsFrom(harness.database));
  t.after(() => other.close());
  await other.query('BEGIN');
  await other.query("SELECT 1 FROM sender_counts WHERE from_msisdn = '+1777' FOR UPDATE");
  const insert = store.sink.insertMany([message('x', { from: '+1777' })]);
  await eventually(
    async () => (await harness.admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [harness.applicationName])).rows.length === 1,
    'the batch waits for the counter row',
  );
  await other.query(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     VALUES ('x', '+1777', '+1', 'ts', 'key', NULL, now()) ON CONFLICT DO NOTHING`,
  );
  await other.query('ROLLBACK');
  assert.deepEqual(await insert, ['created']);
  assert.equal(valueOf(parseExposition(await metrics.render()), 'postgres_write_retries_total', { sqlstate_class: '40' }), 1);
  assert.equal((await countersAgree(harness.admin)).messages, 2);
});

test('one message the database refuses fails alone: the rest of its batch is stored, and no log line holds its data', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const lines: string[] = [];
  const metrics = createMetrics();
  const store = await harness.open({ metrics, log: createLogger({ level: 'DEBUG', write: (line) => lines.push(line) }) });
  await harness.admin.query("ALTER TABLE messages ADD CONSTRAINT no_poison CHECK (text IS DISTINCT FROM 'poison-secret')");
  const calls = [store.sink.insertMany([message('good-1')]), store.sink.insertMany([message('bad', { text: 'poison-secret' })]), store.sink.insertMany([message('good-2')])];
  const [first, bad, second] = await Promise.allSettled(calls);
  assert.deepEqual(first, { status: 'fulfilled', value: ['created'] });
  assert.deepEqual(second, { status: 'fulfilled', value: ['created'] });
  assert.ok(bad?.status === 'rejected' && bad.reason instanceof MessageWriteError && bad.reason.code === '23514');
  const scrape = parseExposition(await metrics.render());
  assert.deepEqual([valueOf(scrape, 'write_batch_size_count'), valueOf(scrape, 'write_batch_size_sum')], [1, 3], 'the three calls were one batch');
  assert.deepEqual((await store.reader.listMessages(query(), roomy())).messages.map((listed) => listed.message_id), ['good-1', 'good-2']);
  // The SQLSTATE travels on the error, for the request's line; the batch committed, so no line says it failed.
  assert.ok(!lines.some((line) => line.includes('a write batch failed')), 'no batch failed');
  assert.ok(!lines.some((line) => line.includes('poison') || line.includes('no_poison')), 'neither the data nor the server text is');
  await countersAgree(harness.admin);
});

test('a message holding U+0000 is refused before anything of its call is stored; reads and erasure with U+0000 are exact', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  await assert.rejects(store.sink.insertMany([message('fine'), message('nul\0id')]), UnstorableMessageError);
  await assert.rejects(store.sink.insertMany([message('fine', { text: 'a\0b' })]), UnstorableMessageError);
  assert.equal((await countersAgree(harness.admin)).messages, 0);

  await store.sink.insertMany([message('a'), message('a\u0001'), message('b')]);
  assert.deepEqual(await store.reader.listMessages(query({ q: '\0' }), roomy()), { messages: [], total: 0, next: null });
  assert.deepEqual(await store.reader.listMessages(query({ from: '+1\0' }), roomy()), { messages: [], total: 0, next: null });
  // 'a\0x' sorts after 'a' and before 'a\u0001', as bytes.
  const after = { tsKey: '2025-01-15T10:00:00.000000000Z', messageId: 'a\0x' };
  assert.deepEqual((await store.reader.listMessages(query({ after }), roomy())).messages.map((listed) => listed.message_id), ['a\u0001', 'b']);

  assert.equal(await store.eraser.eraseMessage('nul\0id'), 0);
  assert.equal(await store.eraser.eraseSender('+1\0'), 0);
  assert.equal((await countersAgree(harness.admin)).tombstones, 1, 'the id that can never be stored is still tombstoned');
});

test('a call larger than the room left in the queue is refused whole with queue_full', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open({ queueLimit: 2 });
  await assert.rejects(store.sink.insertMany([message('a'), message('b'), message('c')]), isUnavailable('queue_full'));
  assert.deepEqual(await store.sink.insertMany([message('a'), message('b')]), ['created', 'created']);
});
