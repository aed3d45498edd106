// Keeps top_senders (migration 4) equal to the first TOP_SENDERS rows of sender_counts in /stats
// order (count descending, then sender ascending), as counts grow with each message and shrink with
// each erasure or expiry. An index on sender_counts by count would do the same job, but would move
// an entry on a random page for every message stored: one more page for nearly every message to
// write to disk. So the ranking is kept by hand, and rebuilt from sender_counts only when a delete
// may have let an unranked sender in.
import type { DatabaseSync } from 'node:sqlite';

/** How many senders /stats ranks. */
export const TOP_SENDERS = 10;

export type TopSenders = {
  /** A sender's count grew by one to `count` (call inside the insert's transaction). */
  grew(sender: string, count: number): void;
  /** Before deletes: remembers the tenth ranked sender, the bound every unranked sender is below. */
  beforeDeletes(): void;
  /** A sender's count shrank to `count` (0: the sender is gone). */
  shrank(sender: string, count: number): void;
  /** After deletes, in the same transaction: rebuilds the ranking if it may no longer be exact. */
  afterDeletes(): void;
};

type Ranked = { from_msisdn: string; message_count: number };

export function prepareTopSenders(db: DatabaseSync): TopSenders {
  const raise = db.prepare('UPDATE top_senders SET message_count = ? WHERE from_msisdn = ?');
  // The tenth ranked sender, if ten are ranked, and whether `sender` with `count` outranks it. The
  // comparison is SQLite's, so it orders senders exactly as /stats does.
  const tenth = db.prepare(
    `SELECT from_msisdn, message_count, (?1 > message_count OR (?1 = message_count AND ?2 < from_msisdn)) AS outranked
     FROM top_senders ORDER BY message_count DESC, from_msisdn ASC LIMIT 1 OFFSET ${TOP_SENDERS - 1}`,
  );
  const join = db.prepare('INSERT INTO top_senders (from_msisdn, message_count) VALUES (?, ?)');
  const leave = db.prepare('DELETE FROM top_senders WHERE from_msisdn = ?');
  // Whether (count, sender) still ranks at or above the bound (count, sender) remembered before.
  const atOrAbove = db.prepare('SELECT (?1 > ?3 OR (?1 = ?3 AND ?2 <= ?4)) AS ok');
  const rebuild = [
    db.prepare('DELETE FROM top_senders'),
    db.prepare(
      `INSERT INTO top_senders (from_msisdn, message_count)
       SELECT from_msisdn, message_count FROM sender_counts ORDER BY message_count DESC, from_msisdn ASC LIMIT ${TOP_SENDERS}`,
    ),
  ];

  let bound: Ranked | null = null;
  let stale = false;

  return {
    grew(sender, count) {
      // Counts only grow here, one at a time: a sender already ranked keeps its place or climbs,
      // and one that is not can only take the place of the last ranked sender, by outranking it.
      if (Number(raise.run(count, sender).changes) === 1) return;
      const last = tenth.get(count, sender) as (Ranked & { outranked: number }) | undefined;
      if (last !== undefined) {
        if (last.outranked !== 1) return;
        leave.run(last.from_msisdn);
      }
      join.run(sender, count);
    },
    beforeDeletes() {
      // Every unranked sender ranks below the tenth; deletes only lower counts, so they stay below it.
      const last = tenth.get(0, '') as Ranked | undefined;
      bound = last === undefined ? null : { from_msisdn: last.from_msisdn, message_count: last.message_count };
      stale = false;
    },
    shrank(sender, count) {
      if (count === 0) {
        // A ranked sender gone leaves a place an unranked one may deserve; an unranked one changes nothing.
        if (Number(leave.run(sender).changes) === 1 && bound !== null) stale = true;
        return;
      }
      if (Number(raise.run(count, sender).changes) !== 1 || bound === null) return;
      // Fewer than ten ranked means every sender is ranked: nothing can overtake. Otherwise a ranked
      // sender now below the old tenth may have been overtaken by an unranked one.
      const { ok } = atOrAbove.get(count, sender, bound.message_count, bound.from_msisdn) as { ok: number };
      if (ok !== 1) stale = true;
    },
    afterDeletes() {
      if (stale) for (const statement of rebuild) statement.run();
      bound = null;
      stale = false;
    },
  };
}
