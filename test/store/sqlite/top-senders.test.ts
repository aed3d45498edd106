import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { prepareMessageWriter } from '../../../src/store/sqlite/message-writer.ts';
import { TOP_SENDERS } from '../../../src/store/sqlite/top-senders.ts';
import { migrate, MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { inWriteTransaction } from '../../../src/store/sqlite/transaction.ts';
import { message } from '../../support/service.ts';

type Ranked = { from_msisdn: string; message_count: number };
const ORDER = 'ORDER BY message_count DESC, from_msisdn ASC';
const kept = (db: DatabaseSync) => db.prepare(`SELECT from_msisdn, message_count FROM top_senders ${ORDER}`).all() as Ranked[];
/** The top senders counted from the stored messages themselves, not from any maintained counter. */
const recounted = (db: DatabaseSync) =>
  db
    .prepare(`SELECT from_msisdn, count(*) AS message_count FROM messages GROUP BY from_msisdn ${ORDER} LIMIT ${TOP_SENDERS}`)
    .all() as Ranked[];

test('top_senders always equals the first ten senders of a full recount, ties included', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  const write = prepareMessageWriter(db);
  // Skewed, tie-heavy traffic: 40 senders, a few far busier, in an order no test could hand-pick.
  let state = 7;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 3_000; n++) {
    const sender = `+9100000000${String(Math.floor(40 * random() ** 2)).padStart(2, '0')}`;
    inWriteTransaction(db, () => write({ ...message(`m-${n}`, { from: sender }), text: null }, 'now'));
    // Duplicates change nothing.
    if (n % 7 === 0) inWriteTransaction(db, () => write({ ...message(`m-${n}`, { from: sender }), text: null }, 'now'));
    if (n < 50 || n % 97 === 0) assert.deepEqual(kept(db), recounted(db), `after message ${n}`);
  }
  assert.deepEqual(kept(db), recounted(db));
  assert.equal(kept(db).length, TOP_SENDERS);
  db.close();
});

test('migration 4 ranks the senders of an existing database', () => {
  const db = new DatabaseSync(':memory:');
  MIGRATIONS.slice(0, 3).forEach((sql) => db.exec(sql));
  db.exec('PRAGMA user_version = 3');
  // Migration 2 built the counters from these rows; migration 4 must rank them.
  const add = db.prepare("INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at) VALUES (?, ?, '+1', 'x', 'x', NULL, 'x')");
  const addCount = db.prepare('INSERT INTO sender_counts (from_msisdn, message_count) VALUES (?, ?)');
  for (let k = 0; k < 15; k++) {
    const sender = `+9100000000${String(k).padStart(2, '0')}`;
    for (let n = 0; n <= k % 4; n++) add.run(`m-${k}-${n}`, sender);
    addCount.run(sender, (k % 4) + 1);
  }
  migrate(db);
  assert.deepEqual(kept(db), recounted(db));
  assert.equal(kept(db).length, TOP_SENDERS);
  db.close();
});
