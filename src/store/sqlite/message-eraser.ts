// The single place where messages are deleted from SQLite: the mirror of message-writer.ts. With each
// row go its search index entry, its sender's count (and the sender, at zero), the totals and the
// ranking of busiest senders, and a tombstone of its id takes its place, all in one transaction, so
// a crash in the middle of a purge leaves either all of a chunk done or none of it. Work comes in
// chunks (`limit` rows), each a transaction of its own, so write batches go on in between.
import type { DatabaseSync } from 'node:sqlite';
import type { Tombstones } from './tombstones.ts';
import { prepareTopSenders } from './top-senders.ts';
import { inWriteTransaction } from './transaction.ts';

export type SqliteEraser = {
  /** Erases one message, if stored, and tombstones its id either way; returns 0 or 1. */
  eraseMessage(messageId: string, erasedAt: string): number;
  /** Erases up to `limit` messages of one sender; returns how many (fewer than limit: none left). */
  eraseSender(from: string, erasedAt: string, limit: number): number;
  /** Erases up to `limit` of the messages received before `cutoff`, oldest first; returns how many. */
  purgeReceivedBefore(cutoff: string, erasedAt: string, limit: number): number;
  /** Deletes up to `limit` tombstones made before `cutoff`; returns how many. */
  purgeTombstonesBefore(cutoff: string, limit: number): number;
};

type Row = { id: number; message_id: string; from_msisdn: string; text: string | null };

export function prepareEraser(db: DatabaseSync, tombstones: Tombstones): SqliteEraser {
  /** A delete transaction, after which the writer's view of the tombstones is read again. */
  const inEraseTransaction = <T>(work: () => T): T => {
    try {
      return inWriteTransaction(db, work);
    } finally {
      tombstones.refresh();
    }
  };
  const byId = db.prepare('SELECT id, message_id, from_msisdn, text FROM messages WHERE message_id = ?');
  const bySender = db.prepare(
    'SELECT id, message_id, from_msisdn, text FROM messages WHERE from_msisdn = ? ORDER BY ts_key, message_id LIMIT ?',
  );
  // Ids follow arrival (one writer, AUTOINCREMENT), so the oldest received are the lowest ids: the
  // walk stops at the first message not expired, with no index on created_at to maintain. A clock
  // stepped back leaves a few messages for a later pass, never a wrong deletion.
  const oldest = db.prepare('SELECT id, message_id, from_msisdn, text, created_at FROM messages ORDER BY id LIMIT ?');
  const indexedThrough = db.prepare('SELECT indexed_through AS mark FROM search_progress WHERE id = 1');
  const deleteRow = db.prepare('DELETE FROM messages WHERE id = ?');
  // A contentless index forgets a row only when told its exact text again.
  const unindex = db.prepare("INSERT INTO messages_text (messages_text, rowid, text) VALUES ('delete', ?, ?)");
  const uncount = db.prepare('UPDATE sender_counts SET message_count = message_count - 1 WHERE from_msisdn = ? RETURNING message_count');
  const forget = db.prepare('DELETE FROM sender_counts WHERE from_msisdn = ?');
  const totals = db.prepare('UPDATE message_totals SET message_count = message_count - ?, sender_count = sender_count - ? WHERE id = 1');
  const topSenders = prepareTopSenders(db);

  /** Deletes the rows and everything derived from them; call inside a write transaction. */
  function erase(rows: readonly Row[], erasedAt: string): void {
    if (rows.length === 0) return;
    const mark = (indexedThrough.get() as { mark: number }).mark;
    topSenders.beforeDeletes();
    let sendersGone = 0;
    for (const row of rows) {
      deleteRow.run(row.id);
      const { message_count: left } = uncount.get(row.from_msisdn) as { message_count: number };
      if (left === 0) {
        forget.run(row.from_msisdn);
        sendersGone++;
      }
      topSenders.shrank(row.from_msisdn, left);
      tombstones.add(row.message_id, erasedAt);
    }
    totals.run(rows.length, sendersGone);
    topSenders.afterDeletes();
    // The index entries last, one after another: index deletes interleaved with statements on other
    // tables cost far more than a run of them (README, "Retention", measured).
    for (const row of rows) if (row.text !== null && row.id <= mark) unindex.run(row.id, row.text);
  }

  /** A chunk's work and the tombstone count it changed, as one transaction. */
  const chunk = <T>(work: () => T): T =>
    inEraseTransaction(() => {
      const result = work();
      tombstones.settle();
      return result;
    });

  return {
    eraseMessage: (messageId, erasedAt) =>
      chunk(() => {
        const row = byId.get(messageId) as Row | undefined;
        erase(row === undefined ? [] : [row], erasedAt);
        // An id not stored yet is tombstoned too: erased before it arrives, it is never stored.
        if (row === undefined) tombstones.add(messageId, erasedAt);
        return row === undefined ? 0 : 1;
      }),
    eraseSender: (from, erasedAt, limit) =>
      chunk(() => {
        const rows = bySender.all(from, limit) as Row[];
        erase(rows, erasedAt);
        return rows.length;
      }),
    purgeReceivedBefore: (cutoff, erasedAt, limit) =>
      chunk(() => {
        const candidates = oldest.all(limit) as (Row & { created_at: string })[];
        const end = candidates.findIndex((row) => row.created_at >= cutoff);
        const expired = end === -1 ? candidates : candidates.slice(0, end);
        erase(expired, erasedAt);
        return expired.length;
      }),
    purgeTombstonesBefore: (cutoff, limit) => inEraseTransaction(() => tombstones.purgeBefore(cutoff, limit)),
  };
}
