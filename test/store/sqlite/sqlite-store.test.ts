import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { openSqliteDatabase } from '../../../src/store/sqlite/open-database.ts';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import { StoreUnavailableError, type InsertResult, type Store } from '../../../src/store/store.ts';
import { startWriteThread } from '../../../src/store/sqlite/write-thread.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { message } from '../../support/service.ts';
import { sqliteRows } from '../../support/service-database.ts';
import { tempDir } from '../../support/temp-dir.ts';

function tempPath(t: TestContext): string {
  return join(tempDir(t, 'sqlite-store-'), 'app.db');
}

const inbound = (id: string) => ({ text: null, ...message(id) });
const insert = async (store: Store, id: string): Promise<InsertResult | undefined> => (await store.sink.insertMany([inbound(id)]))[0];
const isUnavailable = (reason: string) => (error: unknown) => error instanceof StoreUnavailableError && error.reason === reason;

test('concurrent inserts share one commit and each learns whether it created its message', async (t) => {
  const path = tempPath(t);
  const metrics = createMetrics();
  const store = await openSqliteStore({ path, queueLimit: 1000, metrics });
  t.after(() => store.lifecycle.close());
  const ids = Array.from({ length: 200 }, (_, n) => `m-${n % 150}`);
  const results = await Promise.all(ids.map((id) => insert(store, id)));

  assert.equal(results.filter((result) => result === 'created').length, 150);
  assert.deepEqual(results.slice(150), Array(50).fill('duplicate'));
  assert.equal(sqliteRows(path).length, 150);
  const scrape = parseExposition(await metrics.render());
  assert.equal(valueOf(scrape, 'write_batch_size_count'), 1, 'inserts made in one event-loop turn are one batch');
  assert.equal(valueOf(scrape, 'write_batch_size_sum'), 200);
  assert.equal(valueOf(scrape, 'write_queue_depth'), 0);
  assert.equal(valueOf(scrape, 'write_queue_limit'), 1000);
  assert.equal(valueOf(scrape, 'write_queue_rejected_total'), 0);
  assert.equal(valueOf(scrape, 'messages_stored'), 150);
});

test('close commits every insert already queued, then refuses new ones', async (t) => {
  const path = tempPath(t);
  const store = await openSqliteStore({ path, queueLimit: 1000 });
  const inserts = Array.from({ length: 50 }, (_, n) => insert(store, `close-${n}`));
  await store.lifecycle.close();
  assert.deepEqual(await Promise.all(inserts), Array(50).fill('created'));
  assert.equal(sqliteRows(path).length, 50);
  await assert.rejects(insert(store, 'late'), isUnavailable('writer_stopped'));
  assert.equal(await store.lifecycle.ping(), false);
});

test('an in-memory store writes on its own connection and reads back what it wrote', async (t) => {
  const store = await openSqliteStore({ path: ':memory:', queueLimit: 10 });
  t.after(() => store.lifecycle.close());
  assert.equal(await insert(store, 'a'), 'created');
  assert.equal(await insert(store, 'a'), 'duplicate');
  assert.equal(await store.lifecycle.ping(), true);
});

test('a writer thread that stops answers every waiting write and refuses later ones', async (t) => {
  const path = tempPath(t);
  // The store's connection creates and migrates the file, as in the service.
  const store = await openSqliteStore({ path, queueLimit: 10 });
  await store.lifecycle.close();
  let unexpectedExits = 0;
  const thread = await startWriteThread({ path, onUnexpectedExit: () => unexpectedExits++ });
  const createdAt = new Date().toISOString();
  const before = await thread.write([{ message: inbound('before'), createdAt }]);
  assert.deepEqual(before, { ok: true, rows: [{ ok: true, result: 'created' }] });

  const big = Array.from({ length: 2000 }, (_, n) => ({ message: inbound(`crash-${n}`), createdAt }));
  const inFlight = thread.write(big).then(() => 'answered', (error: unknown) => (isUnavailable('writer_stopped')(error) ? 'refused' : 'other'));
  await thread.terminate();
  // Either the batch was answered before the thread stopped, or it is refused: never left waiting.
  assert.match(await inFlight, /^(answered|refused)$/);
  assert.equal(thread.isAlive(), false);
  assert.equal(unexpectedExits, 1);
  await assert.rejects(thread.write([{ message: inbound('after'), createdAt }]), isUnavailable('writer_stopped'));
  assert.ok(sqliteRows(path).some((row) => row.message_id === 'before'));
});

test('the writer thread refuses to start on a database it cannot open', async (t) => {
  const path = tempPath(t);
  mkdirSync(path); // a directory where the database file should be
  await assert.rejects(startWriteThread({ path }), /cannot open the database/);
});

// The writer thread opens its connection with the same function (write-worker.ts).
test('openSqliteDatabase, which both connections use, commits with synchronous=FULL in WAL mode', async (t) => {
  const path = tempPath(t);
  const db = openSqliteDatabase(path);
  t.after(() => db.close());
  // 2 is FULL; 1 (NORMAL) would let a power loss take back commits already answered 200.
  assert.deepEqual({ ...db.prepare('PRAGMA synchronous').get() }, { synchronous: 2 });
  assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
});

test('an insert resolves only once its row is committed: another connection reads it at that moment', async (t) => {
  const path = tempPath(t);
  const store = await openSqliteStore({ path, queueLimit: 1000 });
  t.after(() => store.lifecycle.close());
  const reader = new DatabaseSync(path, { readOnly: true });
  t.after(() => reader.close());
  const find = reader.prepare('SELECT count(*) AS n FROM messages WHERE message_id = ?');
  // Checked in the same turn as the resolution, before the writer thread could finish a commit
  // that came after its answer.
  const checks = Array.from({ length: 300 }, (_, n) =>
    insert(store, `committed-${n}`).then(() => (find.get(`committed-${n}`) as { n: number }).n),
  );
  assert.deepEqual(await Promise.all(checks), Array(300).fill(1));
});
