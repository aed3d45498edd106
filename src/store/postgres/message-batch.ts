// One write batch as SQL: a pipeline of two statements that run as one transaction (one Sync) and
// so commit together or not at all.
//
// 1. The erasure gate, shared (eraser.ts): an erasure of an id cannot run between this batch
//    reading the tombstones and committing its rows.
// 2. One INSERT for the whole batch, its columns bound as arrays (unnest), so the SQL text never
//    changes and a batch of 256 costs one statement. In the same statement, for the rows actually
//    inserted only: the per-sender counts and one shard of the totals. ON CONFLICT (message_id) DO
//    NOTHING makes the primary key the single arbiter of "exactly once": of two replicas inserting
//    the same id at once, one inserts and the other waits for it and then skips the row.
//
// Lock order, so that batches from any number of connections and replicas never deadlock: every
// batch takes its locks in one global order. First the gate (shared: batches never wait on each
// other there); then the message ids, in ascending order of their UTF-8 bytes (the batch is sorted
// here and inserted in that order: a concurrent insert of the same id makes us wait on its
// inserter); then sender_counts rows, in ascending sender order (ORDER BY, in COLLATE "C"); last
// one message_totals row. A transaction waiting for a lock holds only locks that come before it in
// this order, so along any chain of waits the awaited lock only ever comes later in the order: a
// chain cannot close into a cycle. (The counter updates read every inserted row before the first
// of them runs: they aggregate the inserts, and the totals aggregate the counters.)
import type { InboundMessage } from '../../model/message.ts';
import { normalizeTimestamp } from '../../model/message.ts';
import type { InsertResult } from '../store.ts';
import type { LockKey } from './lock-keys.ts';
import { TOTAL_SHARDS } from './migrations.ts';
import { byteaText, type KeyedHash } from './tombstone-key.ts';
import { textArrayLiteral, type QueryResult, type Statement } from './wire/client.ts';

export type WriteRequest = { message: InboundMessage; createdAt: string };

const INSERT_BATCH = `
WITH batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[])
    WITH ORDINALITY AS b (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at, id_hash, position)
),
erased AS (
  SELECT b.message_id FROM batch AS b WHERE EXISTS (SELECT 1 FROM tombstones AS t WHERE t.id_hash = b.id_hash)
),
inserted AS (
  INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
  SELECT b.message_id, b.from_msisdn, b.to_msisdn, b.ts, b.ts_key, b.text, b.created_at
  FROM batch AS b WHERE NOT EXISTS (SELECT 1 FROM tombstones AS t WHERE t.id_hash = b.id_hash)
  ORDER BY b.position
  ON CONFLICT (message_id) DO NOTHING
  RETURNING message_id, from_msisdn
),
per_sender AS (
  SELECT from_msisdn, count(*) AS added FROM inserted GROUP BY from_msisdn
),
counted AS (
  INSERT INTO sender_counts AS s (from_msisdn, message_count)
  SELECT from_msisdn, added FROM per_sender ORDER BY from_msisdn
  ON CONFLICT (from_msisdn) DO UPDATE SET message_count = s.message_count + excluded.message_count
  RETURNING s.from_msisdn, s.message_count
),
totals AS (
  -- A sender whose count now equals what this batch added had no row before: it is new. (Rows
  -- never hold zero, and a row inserted concurrently makes ours an update of a larger count.)
  UPDATE message_totals SET
    message_count = message_count + (SELECT count(*) FROM inserted),
    sender_count = sender_count + (SELECT count(*) FROM counted JOIN per_sender USING (from_msisdn) WHERE counted.message_count = per_sender.added)
  WHERE shard = pg_backend_pid() % ${TOTAL_SHARDS} AND EXISTS (SELECT 1 FROM inserted)
)
SELECT 'created' AS result, message_id FROM inserted
UNION ALL
SELECT 'erased', message_id FROM erased`;

/** The batch with each id once, in byte order, and where each request's answer comes from. */
export type BatchPlan = {
  /** The first request of each distinct id, sorted by the UTF-8 bytes of the id. */
  unique: WriteRequest[];
  /** For each request, in order: whether it is the first of its id in the batch. */
  first: boolean[];
};

export function planBatch(requests: readonly WriteRequest[]): BatchPlan {
  const seen = new Set<string>();
  const unique: WriteRequest[] = [];
  const first = requests.map((request) => {
    if (seen.has(request.message.message_id)) return false;
    seen.add(request.message.message_id);
    unique.push(request);
    return true;
  });
  unique.sort((a, b) => Buffer.compare(Buffer.from(a.message.message_id, 'utf8'), Buffer.from(b.message.message_id, 'utf8')));
  return { unique, first };
}

/** The pipeline that writes the plan's messages: gate, then the insert. */
export function batchStatements(plan: BatchPlan, gate: LockKey, keyedHash: KeyedHash): Statement[] {
  const column = (pick: (request: WriteRequest) => string | null) => textArrayLiteral(plan.unique.map(pick));
  const params = [
    column(({ message }) => message.message_id),
    column(({ message }) => message.from),
    column(({ message }) => message.to),
    column(({ message }) => message.ts),
    column(({ message }) => sortKey(message)),
    column(({ message }) => message.text),
    column(({ createdAt }) => createdAt),
    column(({ message }) => byteaText(keyedHash(message.message_id))),
  ];
  return [
    { sql: 'SELECT pg_advisory_xact_lock_shared($1::int, $2::int)', params: [...gate] },
    { sql: INSERT_BATCH, params },
  ];
}

/**
 * One answer per request from the insert's rows: an id the insert returned was created, one found
 * among the tombstones was erased, any other was already stored. A repeat of an id within the
 * batch is a duplicate of its first, or erased like it.
 */
export function batchResults(requests: readonly WriteRequest[], plan: BatchPlan, result: QueryResult): InsertResult[] {
  const outcomes = new Map<string, InsertResult>();
  for (const [outcome, messageId] of result.rows) {
    if (typeof messageId === 'string' && (outcome === 'created' || outcome === 'erased')) outcomes.set(messageId, outcome);
  }
  return requests.map((request, index) => {
    const outcome = outcomes.get(request.message.message_id);
    if (outcome === 'erased') return 'erased';
    return plan.first[index] === true && outcome === 'created' ? 'created' : 'duplicate';
  });
}

function sortKey(message: InboundMessage): string {
  const key = normalizeTimestamp(message.ts);
  // Validation guarantees a valid ts; a row without a sort key would silently mis-order.
  if (key === null) throw new Error('message ts was not validated');
  return key;
}
