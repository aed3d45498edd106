// The single place where one message is written to SQLite. Whatever else must change with a new
// message (sort key, search index, statistics) changes here, inside the caller's transaction, so
// every write path (one at a time, batched, or in a worker) stays identical. A duplicate changes
// nothing at all: every statement after the insert runs only when the insert created the row.
//
// No statement here uses RETURNING or DO UPDATE: those open a statement savepoint, and FTS5
// flushes its pending index data to a new segment at every savepoint, which made batched inserts
// 2.3 times slower (scripts/seed.ts). A caller's SAVEPOINT around each message costs the same.
import type { DatabaseSync } from 'node:sqlite';
import type { InsertResult } from './store.ts';
import { normalizeTimestamp, type InboundMessage } from './validate.ts';

/** Writes one message; call it inside a transaction, so the row and its aggregates commit together. */
export type MessageWriter = (message: InboundMessage, createdAt: string) => InsertResult;

export function prepareMessageWriter(db: DatabaseSync): MessageWriter {
  // ON CONFLICT DO NOTHING makes the unique key the single arbiter of "exactly once": concurrent
  // duplicates cannot both insert, and `changes` tells the caller which one won.
  const insertMessage = db.prepare(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
  );
  const indexText = db.prepare('INSERT INTO messages_text (rowid, text) VALUES (?, ?)');
  const addSender = db.prepare(
    'INSERT INTO sender_counts (from_msisdn, message_count) VALUES (?, 1) ON CONFLICT (from_msisdn) DO NOTHING',
  );
  const countSender = db.prepare('UPDATE sender_counts SET message_count = message_count + 1 WHERE from_msisdn = ?');
  const countTotals = db.prepare(
    'UPDATE message_totals SET message_count = message_count + 1, sender_count = sender_count + ? WHERE id = 1',
  );

  return (message, createdAt) => {
    const tsKey = normalizeTimestamp(message.ts);
    // Validation guarantees a valid ts; a row without a sort key would silently mis-order.
    if (tsKey === null) throw new Error('message ts was not validated');
    const inserted = insertMessage.run(message.message_id, message.from, message.to, message.ts, tsKey, message.text, createdAt);
    if (Number(inserted.changes) !== 1) return 'duplicate';

    if (message.text !== null) indexText.run(inserted.lastInsertRowid, message.text);
    const newSender = Number(addSender.run(message.from).changes) === 1;
    if (!newSender) countSender.run(message.from);
    countTotals.run(newSender ? 1 : 0);
    return 'created';
  };
}
