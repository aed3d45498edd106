// The PostgreSQL store, on the project's own wire client (wire/client.ts). Two pools: writes
// (batches, erasures, retention, readiness) and reads (listings, /stats, the feed), so a slow read
// can never hold a connection a write is waiting for. Several replicas may share one database.
//
// - Open: one session migrates the schema under an advisory lock (migrations.ts) and makes or
//   loads the tombstone key (tombstone-key.ts); then the pools open on demand.
// - Writes: the bounded group-commit queue (write-queue.ts) hands batches to the batch writer
//   (batch-writer.ts, message-batch.ts): one transaction per batch, acknowledged after COMMIT with
//   synchronous_commit on (or remote_apply, if the server is set so), so an acknowledged message
//   survives a crash of the database server. Batches go one at a time per replica.
// - Reads: read-snapshot.ts (deadline, snapshot), message-listing.ts, message-stats.ts, message-feed.ts.
// - Erasure and retention: eraser.ts, retention.ts.
// Tables live in the first schema of the connection's search_path that exists (set it with the
// URL's options parameter, e.g. options=-c%20search_path%3Dingest,public); pg_trgm must be
// creatable there or already installed (migrations.ts).
import type { Logger } from '../../observability/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { firstPassAfter, RETENTION_INTERVAL_MS } from '../retention-loop.ts';
import { StoreUnavailableError, type InsertResult, type MessageReader, type Store, type StoreLifecycle } from '../store.ts';
import { recordWriteBatches, registerWriteQueueMetrics } from '../store-metrics.ts';
import { createWriteQueue, MAX_BATCH_SIZE } from '../write-queue.ts';
import { createBatchWriter } from './batch-writer.ts';
import { errorCode, outcomeUnknown } from './error-codes.ts';
import { createEraser, type EraserContext } from './eraser.ts';
import type { WriteRequest } from './message-batch.ts';
import { readFeed } from './message-feed.ts';
import { listMessages } from './message-listing.ts';
import { readStats } from './message-stats.ts';
import { NO_COUNTERS, registerPostgresMetrics, type DatabaseSummary, type PoolName, type PostgresCounters } from './postgres-metrics.ts';
import { createReadRunner } from './read-snapshot.ts';
import { startRetention } from './retention.ts';
import { openDatabase, type ConnectionSettings } from './open-database.ts';
import { unstorable } from './unstorable-message.ts';
import { createPool, isConnectionError, type Pool } from './wire/client.ts';

/** Most messages committed in one transaction, as on SQLite: it bounds how long one commit takes. */
const PING_TIMEOUT_MS = 5_000;
const SUMMARY_TIMEOUT_MS = 5_000;

export type PostgresStoreOptions = ConnectionSettings & {
  /** Most connections of the write pool. Batches commit one at a time; the others serve erasures, retention and readiness: 2 or more. */
  poolSize: number;
  /** Most connections of the read pool. */
  readPoolSize: number;
  /** 64: most reads waiting for a read connection; more are refused at once (read_busy). */
  readWaitLimit?: number;
  /** Most writes waiting or being committed; beyond it insert rejects at once with queue_full. */
  queueLimit: number;
  log?: Logger;
  /** Where the store registers its families (write queue and batches, postgres-metrics.ts). */
  metrics?: Metrics;
  /** The clock of created_at (retention), erasure times and the retention cutoffs. */
  now?: () => Date;
  /** Messages received longer ago than this many days are erased; null keeps them for ever. */
  retentionDays: number | null;
  /** Tombstones older than this many days are deleted: a re-delivery after that is stored again. */
  tombstoneDays: number;
  /** 60 s: the pause between retention passes. */
  retentionIntervalMs?: number;
  /** 1 s, or the interval if shorter: the pause before the first retention pass. */
  retentionFirstPassMs?: number;
  /** 500: most messages one erasure or retention transaction deletes. */
  eraseChunkSize?: number;
  /** 30 s: the longest a write statement may run before its connection is given up for lost. */
  writeTimeoutMs?: number;
};

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  checkOptions(options);
  const { log, metrics, now = () => new Date(), writeTimeoutMs = 30_000, retentionIntervalMs = RETENTION_INTERVAL_MS } = options;
  const { connection, keys, keyedHash } = await openDatabase(options);
  const writePool = createPool({ ...connection, size: options.poolSize, queryTimeoutMs: writeTimeoutMs });
  const readPool = createPool({ ...connection, size: options.readPoolSize, maxWaiting: options.readWaitLimit ?? 64 });
  const pools: Record<PoolName, Pool> = { write: writePool, read: readPool };

  let counters: PostgresCounters = NO_COUNTERS;
  // A failed batch's line reads as SQLite's, word for word, so that one alert reads both backends;
  // an erasure's is spelled alike. Here the connection may be lost after a COMMIT was sent:
  // outcome_unknown then says that it may have committed after all (the clients were answered
  // connection_lost, which is safe to retry).
  /**
   * A failure whose outcome is unknown (the connection went after the commit was sent) is not said
   * to be rolled back: it may have committed, and its requests were answered connection_lost.
   */
  function failed(pool: PoolName, error: unknown, msg: string): void {
    if (isConnectionError(error)) counters.connectionError(pool);
    const unknown = outcomeUnknown(error);
    const said = unknown ? msg.replace(' and was rolled back', ': its commit was sent but never confirmed') : msg;
    log?.log('ERROR', { msg: said, code: errorCode(error), outcome_unknown: unknown });
  }

  const writeBatch = createBatchWriter({
    pool: writePool,
    gate: keys.erasureGate,
    keyedHash,
    timeoutMs: writeTimeoutMs,
    onRetry: (sqlStateClass) => counters.retry(sqlStateClass),
    onFailure: (error) => failed('write', error, 'a write batch failed and was rolled back'),
  });
  const queue = createWriteQueue<WriteRequest, InsertResult>({
    writeBatch,
    limit: options.queueLimit,
    maxBatchSize: MAX_BATCH_SIZE,
    onBatch: metrics === undefined ? undefined : recordWriteBatches(metrics),
  });
  const eraserContext: EraserContext = {
    pool: writePool,
    gate: keys.erasureGate,
    keyedHash,
    now,
    chunk: options.eraseChunkSize ?? 500,
    onErased: (reason, count) => counters.erased(reason, count),
    onFailure: (error) => failed('write', error, 'an erasure failed and was rolled back'),
  };
  const retention = startRetention({
    eraser: eraserContext,
    lock: keys.retention,
    retentionDays: options.retentionDays,
    tombstoneDays: options.tombstoneDays,
    intervalMs: retentionIntervalMs,
    firstPassMs: options.retentionFirstPassMs ?? firstPassAfter(retentionIntervalMs),
    log,
  });
  if (metrics !== undefined) {
    registerWriteQueueMetrics(metrics, () => queue.stats());
    counters = registerPostgresMetrics(metrics, { pools, summary: () => summary(readPool, (error) => failed('read', error, 'the metrics query failed')) });
  }

  const read = createReadRunner(readPool, (error) => {
    if (isConnectionError(error)) counters.connectionError('read');
  });
  const reader: MessageReader = {
    listMessages: (query, readOptions) => read(readOptions, (snapshot) => listMessages(snapshot, query)),
    stats: (readOptions) => read(readOptions, readStats),
    feed: (request, readOptions) => read(readOptions, (snapshot) => readFeed(snapshot, request)),
  };

  let open = true;
  const lifecycle: StoreLifecycle = {
    async ping() {
      if (!open) return false;
      try {
        // It reads a table: `SELECT 1` would answer even where the store's tables cannot be read.
        const result = await writePool.query('SELECT 1 FROM message_totals LIMIT 1', [], { timeoutMs: PING_TIMEOUT_MS });
        return result.rows.length === 1;
      } catch (error) {
        if (isConnectionError(error)) counters.connectionError('write');
        return false;
      }
    },
    async close() {
      if (!open) return;
      open = false;
      await queue.drained();
      await retention.stop();
      await Promise.all([writePool.close(), readPool.close()]);
    },
  };

  return {
    sink: {
      async insertMany(messages) {
        if (!open) throw new StoreUnavailableError('writer_stopped');
        for (const message of messages) {
          const refusal = unstorable(message);
          if (refusal !== null) throw refusal;
        }
        const createdAt = now().toISOString();
        return queue.pushMany(messages.map((message) => ({ message, createdAt })));
      },
      unstorableField: (message) => {
        if (message.message_id.includes('\0')) return 'message_id';
        return message.text?.includes('\0') === true ? 'text' : null;
      },
    },
    reader,
    eraser: createEraser(eraserContext),
    lifecycle,
  };
}

/** Refuses options that would make a loop spin or erase everything, naming the option; the pools check their own sizes. */
function checkOptions(options: PostgresStoreOptions): void {
  const { retentionDays, tombstoneDays, retentionIntervalMs = RETENTION_INTERVAL_MS, retentionFirstPassMs = 0, eraseChunkSize = 500, writeTimeoutMs = 30_000 } = options;
  const refuse = (name: string, accepted: string) => {
    throw new Error(`${name} must be ${accepted}`);
  };
  if (retentionDays !== null && !(Number.isFinite(retentionDays) && retentionDays > 0)) refuse('retentionDays', 'a positive number of days, or null');
  if (!(Number.isFinite(tombstoneDays) && tombstoneDays >= 0)) refuse('tombstoneDays', 'a number of days, 0 or more');
  if (!(Number.isInteger(retentionIntervalMs) && retentionIntervalMs >= 1 && retentionIntervalMs <= 2_147_483_647)) refuse('retentionIntervalMs', 'a whole number of milliseconds from 1 to 2^31-1');
  if (!(Number.isInteger(retentionFirstPassMs) && retentionFirstPassMs >= 0 && retentionFirstPassMs <= 2_147_483_647)) refuse('retentionFirstPassMs', 'a whole number of milliseconds from 0 to 2^31-1');
  if (!(Number.isInteger(eraseChunkSize) && eraseChunkSize >= 1 && eraseChunkSize <= 10_000)) refuse('eraseChunkSize', 'a whole number from 1 to 10000');
  if (!(Number.isInteger(writeTimeoutMs) && writeTimeoutMs >= 1 && writeTimeoutMs <= 2_147_483_647)) refuse('writeTimeoutMs', 'a whole number of milliseconds from 1 to 2^31-1');
}

/** What the metrics read from the database, in one bounded query; null when it does not answer. */
async function summary(pool: Pool, onError: (error: unknown) => void): Promise<DatabaseSummary | null> {
  try {
    const result = await pool.query(
      `SELECT coalesce(sum(message_count), 0), coalesce(sum(tombstone_count), 0), pg_database_size(current_database())
       FROM message_totals`,
      [],
      { timeoutMs: SUMMARY_TIMEOUT_MS },
    );
    const [messages, tombstones, databaseBytes] = result.rows[0] ?? [];
    return { messages: Number(messages), tombstones: Number(tombstones), databaseBytes: Number(databaseBytes) };
  } catch (error) {
    onError(error);
    return null;
  }
}
