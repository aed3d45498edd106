// The single place where one message is written to SQLite. Whatever else must change with a new
// message (sort key, statistics) changes here, inside the caller's transaction, so every write
// path (one at a time, batched, or in a worker) stays identical. A duplicate changes nothing at
// all: every statement after the insert runs only when the insert created the row, and an erased id
// (tombstones.ts) is not stored again. The search index follows in chunks of its own
// (search-index.ts); deletes are the mirror of this file (message-eraser.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { InsertResult } from '../store.ts';
import { normalizeTimestamp, type InboundMessage } from '../../model/message.ts';
import type { Tombstones } from './tombstones.ts';
import { prepareTopSenders } from './top-senders.ts';

/** Writes one message; call it inside a transaction, so the row and its aggregates commit together. */
export type MessageWriter = (message: InboundMessage, createdAt: string) => InsertResult;

/** `tombstones`: erased ids are answered 'erased' and never stored again (none given: no check). */
export function prepareMessageWriter(db: DatabaseSync, tombstones?: Tombstones): MessageWriter {
  // ON CONFLICT DO NOTHING makes the unique key the single arbiter of "exactly once": concurrent
  // duplicates cannot both insert, and `changes` tells the caller which one won.
  const insertMessage = db.prepare(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
  );
  const countSender = db.prepare(
    `INSERT INTO sender_counts (from_msisdn, message_count) VALUES (?, 1)
     ON CONFLICT (from_msisdn) DO UPDATE SET message_count = message_count + 1
     RETURNING message_count`,
  );
  const countTotals = db.prepare(
    'UPDATE message_totals SET message_count = message_count + 1, sender_count = sender_count + ? WHERE id = 1',
  );
  const topSenders = prepareTopSenders(db);

  return (message, createdAt) => {
    const tsKey = normalizeTimestamp(message.ts);
    // Validation guarantees a valid ts; a row without a sort key would silently mis-order.
    if (tsKey === null) throw new Error('message ts was not validated');
    if (tombstones?.holds(message.message_id) === true) return 'erased';
    const inserted = insertMessage.run(message.message_id, message.from, message.to, message.ts, tsKey, message.text, createdAt);
    if (Number(inserted.changes) !== 1) return 'duplicate';

    const { message_count: count } = countSender.get(message.from) as { message_count: number };
    countTotals.run(count === 1 ? 1 : 0);
    topSenders.grew(message.from, count);
    return 'created';
  };
}
