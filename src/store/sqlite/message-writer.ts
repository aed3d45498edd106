// The single place where one message is written to SQLite. Whatever else must change with a new
// message (sort key, statistics) changes here, inside the caller's transaction, so every write
// path (one at a time, batched, or in a worker) stays identical. A duplicate changes nothing at
// all: every statement after the insert runs only when the insert created the row. The search
// index follows in chunks of its own (search-index.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { InsertResult } from '../store.ts';
import { normalizeTimestamp, type InboundMessage } from '../../model/message.ts';

/** How many senders /stats ranks; the top_senders table (migration 4) holds exactly these. */
export const TOP_SENDERS = 10;

/** Writes one message; call it inside a transaction, so the row and its aggregates commit together. */
export type MessageWriter = (message: InboundMessage, createdAt: string) => InsertResult;

export function prepareMessageWriter(db: DatabaseSync): MessageWriter {
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
  const rankTopSender = prepareTopSenders(db);

  return (message, createdAt) => {
    const tsKey = normalizeTimestamp(message.ts);
    // Validation guarantees a valid ts; a row without a sort key would silently mis-order.
    if (tsKey === null) throw new Error('message ts was not validated');
    const inserted = insertMessage.run(message.message_id, message.from, message.to, message.ts, tsKey, message.text, createdAt);
    if (Number(inserted.changes) !== 1) return 'duplicate';

    const { message_count: count } = countSender.get(message.from) as { message_count: number };
    countTotals.run(count === 1 ? 1 : 0);
    rankTopSender(message.from, count);
    return 'created';
  };
}

/**
 * Keeps top_senders equal to the first TOP_SENDERS rows of sender_counts in /stats order (count
 * descending, then sender ascending), given each sender's new count as it grows by one. It stays
 * exact because counts only grow, one at a time: a sender already ranked keeps its place or climbs,
 * and one that is not can only take the place of the last ranked sender, and only by outranking it.
 * An index on sender_counts by count would do the same job, but would move an entry on a random
 * page for every message: one more page for nearly every message to write to disk.
 */
function prepareTopSenders(db: DatabaseSync): (sender: string, count: number) => void {
  const raise = db.prepare('UPDATE top_senders SET message_count = ? WHERE from_msisdn = ?');
  // The tenth ranked sender, if ten are ranked, and whether `sender` with `count` outranks it. The
  // comparison is SQLite's, so it orders senders exactly as /stats does.
  const tenth = db.prepare(
    `SELECT from_msisdn, (?1 > message_count OR (?1 = message_count AND ?2 < from_msisdn)) AS outranked
     FROM top_senders ORDER BY message_count DESC, from_msisdn ASC LIMIT 1 OFFSET ${TOP_SENDERS - 1}`,
  );
  const join = db.prepare('INSERT INTO top_senders (from_msisdn, message_count) VALUES (?, ?)');
  const leave = db.prepare('DELETE FROM top_senders WHERE from_msisdn = ?');

  return (sender, count) => {
    if (Number(raise.run(count, sender).changes) === 1) return;
    const last = tenth.get(count, sender) as { from_msisdn: string; outranked: number } | undefined;
    if (last !== undefined) {
      if (last.outranked !== 1) return;
      leave.run(last.from_msisdn);
    }
    join.run(sender, count);
  };
}
