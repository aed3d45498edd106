// Retention: a background loop that erases messages received (created_at) more than retentionDays
// ago, each leaving a tombstone like any erasure (eraser.ts), and deletes tombstones older than
// tombstoneDays. "Now" is the injected clock, so tests drive it.
//
// - Small batches, each one transaction: a purge of 100,000 rows is 200 short transactions, so
//   the gate (and so ingest) is held for one batch at a time and a write connection is borrowed
//   for one batch at a time. A crash between batches leaves every finished batch complete and the
//   rest untouched; the next pass carries on.
// - One replica purges at a time: each batch first tries a transaction-level advisory lock, before
//   the gate, and a replica that does not get it ends its pass (another is purging) without ever
//   holding up ingest. Batches from two replicas could alternate; each is still whole.
// - Under the gate, the expired rows are chosen FOR UPDATE SKIP LOCKED: nobody else erases while
//   the gate is held exclusively, so this only makes sure a row is never waited for.
// - Tombstones are purged without the gate: a batch reading one as it goes is answered as if it
//   read a moment earlier or later, both right. The purge locks only tombstones (which nothing
//   else locks) and then one totals row, last, as batches do: no cycle of waits.
import type { Logger } from '../../observability/log.ts';
import { daysBefore, startRetentionLoop } from '../retention-loop.ts';
import { errorCode } from './error-codes.ts';
import { eraseChunk, type EraserContext } from './eraser.ts';
import type { LockKey } from './lock-keys.ts';
import { TOTAL_SHARDS } from './migrations.ts';


export type RetentionOptions = {
  eraser: EraserContext;
  lock: LockKey;
  /** Null: messages are kept for ever (tombstones still expire). */
  retentionDays: number | null;
  tombstoneDays: number;
  /** Between two passes. */
  intervalMs: number;
  /**
   * Before the first pass: the store makes it short, so that what expired while the service was
   * down goes at once. Unset, the first pass waits a whole interval (tests that call purge() themselves).
   */
  firstPassMs?: number;
  log?: Logger;
};

export type Retention = {
  /** One pass now: expired messages, then old tombstones. Resolves with what it deleted. */
  purge(): Promise<{ messages: number; tombstones: number }>;
  /** Stops the loop; resolves once a pass under way has finished its current batch. */
  stop(): Promise<void>;
};

const EXPIRED = `SELECT message_id FROM messages WHERE created_at < $1::timestamptz
                 ORDER BY created_at LIMIT $2::int FOR UPDATE SKIP LOCKED`;

const PURGE_TOMBSTONES = `
WITH old AS (
  DELETE FROM tombstones WHERE id_hash IN (
    SELECT id_hash FROM tombstones WHERE erased_at < $1::timestamptz ORDER BY erased_at LIMIT $2::int FOR UPDATE SKIP LOCKED
  )
  RETURNING 1
),
totals AS (
  UPDATE message_totals SET tombstone_count = tombstone_count - (SELECT count(*) FROM old)
  WHERE shard = pg_backend_pid() % ${TOTAL_SHARDS}
)
SELECT count(*) FROM old`;

export function startRetention(options: RetentionOptions): Retention {
  const { eraser, lock, retentionDays, tombstoneDays, intervalMs, firstPassMs = intervalMs, log } = options;
  const { pool, now, chunk } = eraser;
  const loop = startRetentionLoop({
    pass: async () => ({ messages: await purgeMessages(), tombstones: await purgeTombstones() }),
    firstPassMs,
    intervalMs,
    log,
    codeOf: errorCode,
  });

  const tryLock = async (query: (sql: string, params: readonly string[]) => Promise<{ rows: (string | null)[][] }>) =>
    (await query('SELECT pg_try_advisory_xact_lock($1::int, $2::int)', lock)).rows[0]?.[0] === 't';

  async function purgeMessages(): Promise<number> {
    if (retentionDays === null) return 0;
    const cutoff = daysBefore(now(), retentionDays);
    let total = 0;
    while (!loop.stopped()) {
      const outcome = await eraseChunk(
        eraser,
        async (query) => (await query(EXPIRED, [cutoff, String(chunk)])).rows.map((row) => row[0] as string),
        tryLock,
      );
      if (outcome === null) break;
      total += outcome.erased;
      eraser.onErased('retention', outcome.erased);
      if (outcome.chosen < chunk) break;
    }
    return total;
  }

  async function purgeTombstones(): Promise<number> {
    const cutoff = daysBefore(now(), tombstoneDays);
    let total = 0;
    while (!loop.stopped()) {
      const deleted = await pool.transaction(async (connection) => {
        if (!(await tryLock((sql, params) => connection.query(sql, params)))) return null;
        return Number((await connection.query(PURGE_TOMBSTONES, [cutoff, String(chunk)])).rows[0]?.[0] ?? 0);
      });
      if (deleted === null) break;
      total += deleted;
      if (deleted < chunk) break;
    }
    return total;
  }

  return { purge: loop.purge, stop: loop.stop };
}
