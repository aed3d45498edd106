// Erasure: deleting messages (one, all of a sender's, or expired ones for retention) and leaving a
// tombstone for each id, with every counter kept exact in the same transaction.
//
// Why the erasure gate. A write batch decides "erased or not" from the tombstones its statement's
// snapshot sees, then inserts. Without a lock, an erasure of id X could commit between that snapshot
// and the batch's commit: its DELETE does not see the batch's uncommitted row, its tombstone comes
// too late for the batch, and X would end up stored and tombstoned at once. So every batch holds
// the gate shared (batches never wait on each other there) and every erasure holds it exclusively,
// and both take it in a statement of its own, before the statement that reads: whichever comes
// second takes its snapshot only after the first has committed, and sees what it did.
//
// Holding the gate exclusively, an erasure is the only writer of sender_counts and the totals, so
// it may update and delete counter rows from the counts its snapshot read. Erasures are rare and
// short (one message, or chunks of at most `chunk` rows), so the writes they hold up wait briefly.
import type { EraseReason } from '../store-metrics.ts';
import { StoreUnavailableError, type MessageEraser } from '../store.ts';
import { outcomeUnknown } from './error-codes.ts';
import type { LockKey } from './lock-keys.ts';
import { TOTAL_SHARDS } from './migrations.ts';
import { byteaText, type KeyedHash } from './tombstone-key.ts';
import { textArrayLiteral, type Param, type Pool, type QueryResult } from './wire/client.ts';


export type EraserContext = {
  pool: Pool;
  gate: LockKey;
  keyedHash: KeyedHash;
  now: () => Date;
  /** Most messages erased per transaction (eraseSender, retention). */
  chunk: number;
  onErased: (reason: EraseReason, count: number) => void;
  /** A failed erasure, with its error: log only its code (error-codes.ts). */
  onFailure: (error: unknown) => void;
};

type Query = (sql: string, params?: readonly Param[]) => Promise<QueryResult>;

/** What one erasure transaction did, or null when `prelude` declined to go on. */
export type ChunkOutcome = { chosen: number; erased: number } | null;

const ERASE = `
WITH target AS (
  SELECT * FROM unnest($1::text[], $2::bytea[]) AS t (message_id, id_hash)
),
gone AS (
  DELETE FROM messages AS m USING target AS t WHERE m.message_id = t.message_id
  RETURNING m.from_msisdn
),
buried AS (
  INSERT INTO tombstones (id_hash, erased_at) SELECT id_hash, $3::timestamptz FROM target
  ON CONFLICT (id_hash) DO NOTHING
  RETURNING 1
),
per_sender AS (
  SELECT from_msisdn, count(*) AS removed FROM gone GROUP BY from_msisdn
),
lowered AS (
  UPDATE sender_counts AS s SET message_count = s.message_count - p.removed
  FROM per_sender AS p WHERE s.from_msisdn = p.from_msisdn AND s.message_count > p.removed
),
emptied AS (
  DELETE FROM sender_counts AS s USING per_sender AS p
  WHERE s.from_msisdn = p.from_msisdn AND s.message_count = p.removed
  RETURNING 1
),
totals AS (
  UPDATE message_totals SET
    message_count = message_count - (SELECT count(*) FROM gone),
    sender_count = sender_count - (SELECT count(*) FROM emptied),
    tombstone_count = tombstone_count + (SELECT count(*) FROM buried)
  WHERE shard = pg_backend_pid() % ${TOTAL_SHARDS}
)
SELECT count(*) FROM gone`;

/** In the order of the sender's index, so each chunk reads only its own rows, never sorts them all. */
const SENDER_CHUNK = 'SELECT message_id FROM messages WHERE from_msisdn = $1 ORDER BY ts_key, message_id LIMIT $2::int FOR UPDATE';

/**
 * One erasure transaction: `prelude` (may decline), the gate, `choose` picks the ids (under the
 * gate, so they cannot change before the erase), then they are deleted and tombstoned. An id that
 * PostgreSQL text cannot hold (U+0000) is never stored, so it is only tombstoned.
 */
export async function eraseChunk(
  context: EraserContext, choose: (query: Query) => Promise<string[]>, prelude: (query: Query) => Promise<boolean> = async () => true,
): Promise<ChunkOutcome> {
  const { pool, gate, keyedHash, now } = context;
  return pool.transaction(async (connection) => {
    const query: Query = (sql, params) => connection.query(sql, params);
    if (!(await prelude(query))) return null;
    await query('SELECT pg_advisory_xact_lock($1::int, $2::int)', gate);
    const ids = await choose(query);
    if (ids.length === 0) return { chosen: 0, erased: 0 };
    const result = await query(ERASE, [
      textArrayLiteral(ids.map((id) => (id.includes('\0') ? null : id))),
      textArrayLiteral(ids.map((id) => byteaText(keyedHash(id)))),
      now().toISOString(),
    ]);
    return { chosen: ids.length, erased: Number(result.rows[0]?.[0] ?? 0) };
  });
}

export function createEraser(context: EraserContext): MessageEraser {
  const { onErased, onFailure, chunk } = context;

  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      onFailure(error);
      throw new StoreUnavailableError(outcomeUnknown(error) ? 'connection_lost' : 'commit_failed');
    }
  }

  return {
    eraseMessage: (messageId) =>
      guarded(async () => {
        const outcome = await eraseChunk(context, async () => [messageId]);
        const erased = outcome?.erased ?? 0;
        onErased('message', erased);
        return erased;
      }),

    // In chunks, each a transaction, so a sender with many messages does not hold the gate (and
    // the writes behind it) for long. Messages of the sender stored meanwhile are erased by later
    // chunks; one stored after the last chunk is not. If a chunk fails, the chunks before it stay
    // erased, and a retry erases the rest.
    eraseSender: (from) =>
      guarded(async () => {
        // No stored sender holds U+0000 (E.164), and PostgreSQL text could not carry it.
        if (from.includes('\0')) return 0;
        let total = 0;
        for (;;) {
          const outcome = await eraseChunk(context, async (query) => {
            const result = await query(SENDER_CHUNK, [from, String(chunk)]);
            return result.rows.map((row) => row[0] as string);
          });
          const erased = outcome?.erased ?? 0;
          total += erased;
          onErased('sender', erased);
          if ((outcome?.chosen ?? 0) < chunk) return total;
        }
      }),
  };
}
