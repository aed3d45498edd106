import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { openSqliteDatabase } from '../../../src/store/sqlite/open-database.ts';
import { prepareBatchWriter, type WriteRequest } from '../../../src/store/sqlite/write-batch.ts';
import { message } from '../../support/service.ts';
import { tempDir } from '../../support/temp-dir.ts';

const CREATED_AT = '2025-01-15T10:00:01.000Z';

function openTempDatabase(t: TestContext): DatabaseSync {
  const db = openSqliteDatabase(join(tempDir(t, 'write-batch-'), 'app.db'));
  t.after(() => {
    db.close();
  });
  return db;
}

function requests(...ids: string[]): WriteRequest[] {
  return ids.map((id) => ({ message: { text: null, ...message(id) }, createdAt: CREATED_AT }));
}

function storedIds(db: DatabaseSync): string[] {
  return (db.prepare('SELECT message_id FROM messages ORDER BY message_id').all() as { message_id: string }[]).map((row) => row.message_id);
}

test('a batch reports created or duplicate per message, and a repeat inside the batch is a duplicate', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  assert.deepEqual(writeBatch(requests('a')), { ok: true, rows: [{ ok: true, result: 'created' }] });

  const outcome = writeBatch(requests('a', 'b', 'c', 'b'));
  assert.deepEqual(outcome, {
    ok: true,
    rows: [
      { ok: true, result: 'duplicate' },
      { ok: true, result: 'created' },
      { ok: true, result: 'created' },
      { ok: true, result: 'duplicate' },
    ],
  });
  assert.deepEqual(storedIds(db), ['a', 'b', 'c']);
  assert.equal(db.isTransaction, false);
});

test('a message that fails a constraint is undone alone and its neighbours commit', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  db.exec(`CREATE TEMP TRIGGER refuse_poison BEFORE INSERT ON messages WHEN NEW.message_id = 'poison'
           BEGIN SELECT RAISE(ABORT, 'refused'); END`);

  const outcome = writeBatch(requests('before', 'poison', 'after'));
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.rows[0], { ok: true, result: 'created' });
  assert.equal(outcome.rows[1]?.ok, false);
  assert.match(outcome.rows[1]?.ok === false ? outcome.rows[1].code : '', /^SQLITE_\d+$/);
  assert.deepEqual(outcome.rows[2], { ok: true, result: 'created' });
  assert.deepEqual(storedIds(db), ['after', 'before']);
});

test('a message that fails halfway through its writes leaves nothing of itself behind', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  // The sender counter is written after the row and its search-index entry: failing there leaves
  // a half-written message unless the whole message is undone.
  db.exec(`CREATE TEMP TRIGGER refuse_sender BEFORE INSERT ON sender_counts WHEN NEW.from_msisdn = '+19999999999'
           BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  const poison = { message: { ...message('poison'), from: '+19999999999', text: 'poisoned words' }, createdAt: CREATED_AT };
  const [before, after] = requests('before', 'after');

  const outcome = writeBatch([before!, poison, after!]);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.rows.map((row) => row.ok), [true, false, true]);
  assert.deepEqual(storedIds(db), ['after', 'before']);
  const totals = db.prepare('SELECT message_count, sender_count FROM message_totals').get();
  assert.deepEqual({ ...totals }, { message_count: 2, sender_count: 1 });
  assert.deepEqual(db.prepare(`SELECT rowid FROM messages_text WHERE messages_text MATCH '"poi"'`).all(), []);
});

test('a failing row reports only the SQLite code, never the error message', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  db.exec(`CREATE TEMP TRIGGER refuse_all BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'secret detail'); END`);
  const outcome = writeBatch(requests('x'));
  assert.ok(!JSON.stringify(outcome).includes('secret detail'));
});

test('a failed COMMIT rolls the whole batch back and stores nothing of it', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  // A deferred foreign key is checked at COMMIT: the message 'breaks-commit' leaves a dangling
  // reference behind, so the COMMIT itself fails after every row was written.
  db.exec(`PRAGMA foreign_keys = ON;
           CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);
           CREATE TEMP TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
           CREATE TEMP TRIGGER dangle AFTER INSERT ON messages WHEN NEW.message_id = 'breaks-commit'
           BEGIN INSERT INTO child VALUES (1); END`);

  const outcome = writeBatch(requests('first', 'breaks-commit', 'last'));
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.code, /^SQLITE_\d+$/);
  assert.deepEqual(storedIds(db), []);
  assert.equal(db.isTransaction, false);

  // The writer is usable again: the next batch commits.
  assert.deepEqual(writeBatch(requests('first', 'last')), {
    ok: true,
    rows: [{ ok: true, result: 'created' }, { ok: true, result: 'created' }],
  });
  assert.deepEqual(storedIds(db), ['first', 'last']);
});

test('a batch that cannot take the write lock fails as a whole and stores nothing', (t) => {
  const db = openTempDatabase(t);
  const writeBatch = prepareBatchWriter(db);
  db.exec('PRAGMA busy_timeout = 0'); // fail at once instead of waiting for the lock
  const other = new DatabaseSync(db.location() as string);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // another connection holds the write lock

  const outcome = writeBatch(requests('a'));
  assert.equal(outcome.ok, false);
  assert.equal(db.isTransaction, false);
  other.exec('ROLLBACK');
  assert.deepEqual(storedIds(db), []);
  assert.equal(writeBatch(requests('a')).ok, true);
});
