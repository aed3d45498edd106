// The SQLite store on node:sqlite. Durability: WAL with synchronous=FULL fsyncs the log on every
// commit, and an insert resolves only after the commit holding it has returned, so a resolved
// insert survives a process crash (kill -9) and a power loss.
//
// Writes go through a bounded queue (write-queue.ts) to one writer that commits them in batches
// (write-batch.ts, each message written by message-writer.ts): on a file, a worker thread owning
// the write connection (write-thread.ts), so fsyncs never block the event loop; for `:memory:`,
// which another connection cannot see, the same batches run inline on the one connection. Reads
// (message-queries.ts) use this thread's own connection, which WAL lets run beside the writer.
import type { DatabaseSync } from 'node:sqlite';
import type { InboundMessage } from '../../model/message.ts';
import type { Logger } from '../../observability/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { RETENTION_INTERVAL_MS } from '../retention-loop.ts';
import { MessageWriteError, StoreUnavailableError, type InsertResult, type MessageSink, type Store, type StoreLifecycle } from '../store.ts';
import { recordWriteBatches, registerWriteQueueMetrics } from '../store-metrics.ts';
import { createWriteQueue, MAX_BATCH_SIZE, type Settled } from '../write-queue.ts';
import { openSqliteReader } from './sqlite-reader.ts';
import { openSqliteDatabase } from './open-database.ts';
import { prepareSearchIndexer, scheduleIndexing } from './search-index.ts';
import { registerSqliteMetrics } from './sqlite-metrics.ts';
import { sqliteErrorCode } from './sqlite-error.ts';
import { prepareBatchWriter, type BatchOutcome, type WriteRequest } from './write-batch.ts';
import { startWriteThread } from './write-thread.ts';
import { eraseRunner } from './erase-runner.ts';
import { prepareEraser } from './message-eraser.ts';
import { startSqliteErasure } from './sqlite-eraser.ts';
import { prepareTombstones } from './tombstones.ts';
import type { EraseOutcome, EraseRequest } from './writer-messages.ts';

/** Meta retries a delivery for up to 7 days: a day more covers the last retry. */
export const DEFAULT_TOMBSTONE_DAYS = 8;

export type SqliteStoreOptions = {
  path: string;
  /** Most writes waiting or being committed; beyond it insert rejects at once with queue_full. */
  queueLimit: number;
  /** Reader threads, each with a read-only connection (a file only; `:memory:` reads inline). */
  readThreads?: number;
  /** Share of one core each reader thread may use over time (read-clock.ts); 1 (the default) leaves it unpaced. */
  readCpuShare?: number;
  /** Messages received longer ago than this are erased; null (the default) keeps them. */
  retentionDays?: number | null;
  /** How long an erased id stays refused (tombstones.ts). */
  tombstoneDays?: number;
  /** Between two retention passes (tests make it short). */
  retentionIntervalMs?: number;
  log?: Logger;
  /** Where the store registers its families (write queue, batches, size, search backlog). */
  metrics?: Metrics;
  now?: () => Date;
  /**
   * Called once if the writer thread stops without close() (a crash, running out of memory). It
   * is not restarted in place: whatever killed it may do so again, so the owner should stop the
   * process and let its supervisor start a fresh one. Meanwhile writes answer 503.
   */
  onWriterStopped?: () => void;
};

type Writer = {
  write(requests: readonly WriteRequest[]): Promise<BatchOutcome>;
  erase(request: EraseRequest): Promise<EraseOutcome>;
  isAlive(): boolean;
  close(): Promise<void>;
};

export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { path, queueLimit, readThreads = 1, readCpuShare, log, metrics, now = () => new Date(), onWriterStopped } = options;
  const { retentionDays = null, tombstoneDays = DEFAULT_TOMBSTONE_DAYS, retentionIntervalMs = RETENTION_INTERVAL_MS } = options;
  // This connection creates the file and migrates the schema before the writer opens it.
  const db = openSqliteDatabase(path);
  // Readiness reads a page of the database itself: `SELECT 1` alone would answer without touching
  // the file, so a file that can no longer be read would still look ready.
  const pingQuery = db.prepare('SELECT 1 AS ok FROM message_totals WHERE id = 1');
  let writer: Writer;
  try {
    writer = path === ':memory:' ? inlineWriter(db, onIndexError) : await startWriteThread({ path, onUnexpectedExit, onIndexError });
  } catch (error) {
    db.close();
    throw error;
  }
  let reads: Awaited<ReturnType<typeof openSqliteReader>>;
  try {
    reads = await openSqliteReader({ path, db, threads: readThreads, cpuShare: readCpuShare, log, metrics });
  } catch (error) {
    await writer.close();
    db.close();
    throw error;
  }

  const queue = createWriteQueue<WriteRequest, InsertResult>({
    writeBatch: async (requests) => settle(await writer.write(requests)),
    limit: queueLimit,
    maxBatchSize: MAX_BATCH_SIZE,
    onBatch: metrics === undefined ? undefined : recordWriteBatches(metrics),
  });
  if (metrics !== undefined) {
    registerWriteQueueMetrics(metrics, () => queue.stats());
    registerSqliteMetrics(metrics, db);
  }
  let open = true;

  function onUnexpectedExit(exitCode: number): void {
    log?.log('ERROR', { msg: 'the database writer stopped: writes answer 503 and readiness fails', exit_code: exitCode });
    onWriterStopped?.();
  }

  function onIndexError(code: string): void {
    log?.log('ERROR', { msg: 'the search index could not be brought up to date: searches check the unindexed messages directly', code });
  }

  function settle(outcome: BatchOutcome): Settled<InsertResult>[] {
    if (!outcome.ok) {
      log?.log('ERROR', { msg: 'a write batch failed and was rolled back', code: outcome.code });
      throw new StoreUnavailableError('commit_failed');
    }
    return outcome.rows.map((row) => (row.ok ? { ok: true, value: row.result } : { ok: false, error: new MessageWriteError(row.code) }));
  }

  const sink: MessageSink = {
    insertMany(messages: readonly InboundMessage[]): Promise<InsertResult[]> {
      if (!open || !writer.isAlive()) return Promise.reject(new StoreUnavailableError('writer_stopped'));
      const createdAt = now().toISOString();
      return queue.pushMany(messages.map((message) => ({ message, createdAt })));
    },
    unstorableField: () => null,
  };
  const erasure = startSqliteErasure({
    erase: async (request) => {
      if (!open || !writer.isAlive()) throw new StoreUnavailableError('writer_stopped');
      return writer.erase(request);
    },
    now, retentionDays, tombstoneDays, intervalMs: retentionIntervalMs, log, metrics,
  });
  const lifecycle: StoreLifecycle = {
    async ping() {
      if (!open || !writer.isAlive()) return false;
      try {
        return (pingQuery.get() as { ok: number } | undefined)?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (!open) return;
      open = false;
      await erasure.stop();
      await reads.close();
      await queue.drained();
      await writer.close();
      db.close();
    },
  };
  return { sink, reader: reads.reader, eraser: erasure.eraser, lifecycle };
}

/** The batch writer, the eraser and search indexing on the caller's own connection, for `:memory:` databases. */
function inlineWriter(db: DatabaseSync, onIndexError: (code: string) => void): Writer {
  const tombstones = prepareTombstones(db);
  const writeBatch = prepareBatchWriter(db, tombstones);
  const erase = eraseRunner(prepareEraser(db, tombstones));
  const indexing = scheduleIndexing(prepareSearchIndexer(db), (error) => onIndexError(sqliteErrorCode(error)));
  return {
    async write(requests) {
      const outcome = writeBatch(requests);
      indexing.afterWrite();
      return outcome;
    },
    erase: async (request) => erase(request),
    isAlive: () => db.isOpen,
    close: async () => indexing.finish(),
  };
}
