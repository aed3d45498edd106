import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { prepareMessageWriter } from '../../../src/store/sqlite/message-writer.ts';
import { migrate } from '../../../src/store/sqlite/migrations.ts';
import { INDEX_CHUNK, INDEX_LAG_MS, INDEX_RETRY_MS, prepareSearchIndexer, scheduleIndexing, type SearchIndexer } from '../../../src/store/sqlite/search-index.ts';
import { openSqliteDatabase } from '../../../src/store/sqlite/open-database.ts';
import { inWriteTransaction } from '../../../src/store/sqlite/transaction.ts';
import { getJson, idsOf, message, postWebhook, startService, walk, type Service } from '../../support/service.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { tempDir } from '../../support/temp-dir.ts';

/** Writes messages straight into the database, as the writer does, leaving them unindexed. */
function writeMessages(db: DatabaseSync, count: number, prefix: string, text: (n: number) => string | null): void {
  const write = prepareMessageWriter(db);
  inWriteTransaction(db, () => {
    for (let n = 0; n < count; n++) write({ ...message(`${prefix}-${n}`), text: text(n) }, '2025-01-01T00:00:00.000Z');
  });
}

/** A fresh in-memory database with the schema, and its indexer. */
function migratedDatabase(): { db: DatabaseSync; indexer: SearchIndexer } {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  return { db, indexer: prepareSearchIndexer(db) };
}

/** The rowids the search index holds. */
const indexedIds = (db: DatabaseSync) =>
  (db.prepare("SELECT rowid FROM messages_text WHERE messages_text MATCH '\"ell\"' ORDER BY rowid").all() as { rowid: number }[]).map(
    (row) => row.rowid,
  );

test('indexNext indexes the oldest unindexed messages, null texts included in the count', () => {
  const { db, indexer } = migratedDatabase();
  writeMessages(db, 10, 'm', (n) => (n % 3 === 0 ? null : `hello ${n}`));
  assert.equal(indexer.backlog(), 10);

  assert.equal(indexer.indexNext(4), 4);
  assert.equal(indexer.backlog(), 6);
  assert.deepEqual(indexedIds(db), [2, 3], 'ids 1 and 4 have null text');
  assert.equal(indexer.indexNext(100), 6);
  assert.equal(indexer.indexNext(100), 0, 'nothing left');
  assert.equal(indexer.backlog(), 0);
  assert.deepEqual(indexedIds(db), [2, 3, 5, 6, 8, 9]);
  db.close();
});

test('scheduleIndexing indexes a full chunk at once, the rest after INDEX_LAG_MS, and everything on finish', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { db, indexer } = migratedDatabase();
  const errors: unknown[] = [];
  const schedule = scheduleIndexing(indexer, (error) => errors.push(error));

  writeMessages(db, INDEX_CHUNK + 5, 'a', () => 'hello');
  schedule.afterWrite();
  assert.equal(indexer.backlog(), 5, 'a full chunk is indexed before afterWrite returns');
  // A second write does not push the deadline back.
  t.mock.timers.tick(INDEX_LAG_MS - 1);
  schedule.afterWrite();
  assert.equal(indexer.backlog(), 5, 'the rest waits for the lag');
  t.mock.timers.tick(1);
  assert.equal(indexer.backlog(), 0, 'and is indexed once the oldest has waited INDEX_LAG_MS');

  writeMessages(db, 7, 'b', () => 'hello');
  schedule.afterWrite();
  assert.equal(indexer.backlog(), 7);
  schedule.finish();
  assert.equal(indexer.backlog(), 0);
  assert.equal(indexedIds(db).length, INDEX_CHUNK + 12);
  assert.deepEqual(errors, []);
  db.close();
});

test('a failing index reports the first error of each run, retries on its own, and catches up', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { db, indexer } = migratedDatabase();
  const errors: string[] = [];
  const schedule = scheduleIndexing(indexer, (error) => errors.push((error as Error).message));
  writeMessages(db, INDEX_CHUNK * 2, 'm', () => 'hello');
  db.exec('ALTER TABLE messages_text RENAME TO messages_text_away');

  schedule.afterWrite();
  schedule.afterWrite();
  t.mock.timers.tick(INDEX_LAG_MS);
  assert.equal(errors.length, 1, 'one report for a run of failures');
  assert.match(errors[0] as string, /no such table/);
  assert.equal(indexer.backlog(), INDEX_CHUNK * 2, 'nothing half-indexed: the mark did not move');

  // No write comes; the retry alone catches up, a full chunk at a time.
  db.exec('ALTER TABLE messages_text_away RENAME TO messages_text');
  t.mock.timers.tick(INDEX_RETRY_MS);
  t.mock.timers.tick(0);
  assert.equal(indexer.backlog(), 0);
  assert.equal(indexedIds(db).length, INDEX_CHUNK * 2);

  // A new run of failures is reported again.
  db.exec('ALTER TABLE messages_text RENAME TO messages_text_away');
  writeMessages(db, INDEX_CHUNK, 'n', () => 'hello');
  schedule.afterWrite();
  assert.equal(errors.length, 2);
  db.exec('ALTER TABLE messages_text_away RENAME TO messages_text');
  schedule.finish();
  assert.equal(indexer.backlog(), 0);
  db.close();
});

async function backlog(service: Service): Promise<number> {
  const exposition = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  const value = valueOf(exposition, 'search_index_backlog_messages');
  // A missing gauge must not pass for an index that has caught up.
  assert.equal(typeof value, 'number');
  return value as number;
}

/** Waits until the index has caught up; the test's timeout bounds the wait. */
async function caughtUp(service: Service): Promise<void> {
  while ((await backlog(service)) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

// How far the index has got when a search runs depends on timing here; message-queries.test.ts
// pins the searches with none, part and all of the rows indexed.
test('a search finds each message once, right after the 200s and once the index has caught up', { timeout: 60_000 }, async (t) => {
  const service = await startService(t);
  const sent = Array.from({ length: INDEX_CHUNK + 50 }, (_, n) =>
    message(`lag-${String(n).padStart(5, '0')}`, { text: n % 2 === 0 ? `Order ${n} shipped` : `no match ${n}` }),
  );
  for (let first = 0; first < sent.length; first += 50) {
    const replies = await Promise.all(sent.slice(first, first + 50).map((m) => postWebhook(service, m)));
    assert.ok(replies.every((reply) => reply.status === 200));
  }
  const expected = sent.filter((_, n) => n % 2 === 0).map((m) => m.message_id);
  const search = async () => {
    const page = await getJson(service, '/messages?q=SHIPPED&limit=100&offset=500');
    return { total: page.body.total, ids: idsOf(page.body) };
  };

  // A cursor walk, too: its pages come from the index and the unindexed rows alike.
  const walked = async () => (await walk(service, '/messages?q=shipped&limit=100')).pages.flat();

  assert.deepEqual(await search(), { total: expected.length, ids: expected.slice(500, 600) }, 'right after the 200s');
  assert.deepEqual(await walked(), expected, 'walked right after the 200s');
  await caughtUp(service);
  assert.deepEqual(await search(), { total: expected.length, ids: expected.slice(500, 600) }, 'all indexed');
  assert.deepEqual(await walked(), expected, 'walked once all indexed');
});

test('messages a crash left unindexed are indexed after a restart, each found once', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, 'search-crash-');
  // What a kill between a batch's commit and its index chunk leaves: committed, unindexed rows.
  const db = openSqliteDatabase(join(dir, 'app.db'));
  writeMessages(db, 30, 'crash', (n) => `left behind ${n}`);
  assert.equal(prepareSearchIndexer(db).backlog(), 30);
  db.close();

  const service = await startService(t, { dir });
  await caughtUp(service);
  const after = await getJson(service, '/messages?q=left%20behind%2029');
  assert.deepEqual(idsOf(after.body), ['crash-29']);
  assert.equal((await getJson(service, '/messages?q=behind')).body.total, 30);
});
