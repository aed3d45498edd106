// The SQLite store on node:sqlite. Durability: WAL with synchronous=FULL fsyncs the log on every
// commit, and an insert resolves only after the commit holding it has returned, so a resolved
// insert survives a process crash (kill -9) and a power loss.
//
// Writes go through a bounded queue (write-queue.ts) to one writer that commits them in batches
// (write-batch.ts, each message written by message-writer.ts): on a file, a worker thread owning
// the write connection (write-thread.ts), so fsyncs never block the event loop; for `:memory:`,
// which another connection cannot see, the same batches run inline on the one connection. Reads
// (message-queries.ts) use this thread's own connection, which WAL lets run beside the writer.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from './log.ts';
import { prepareMessageQueries } from './message-queries.ts';
import { migrate } from './migrations.ts';
import { StoreUnavailableError, type InsertResult, type Store, type StoreSummary } from './store.ts';
import type { InboundMessage } from './validate.ts';
import { prepareSearchIndexer, scheduleIndexing, SEARCH_BACKLOG_SQL } from './search-index.ts';
import { prepareBatchWriter, sqliteErrorCode, type BatchOutcome, type WriteRequest } from './write-batch.ts';
import { createWriteQueue, type Settled } from './write-queue.ts';
import { startWriteThread } from './write-thread.ts';

/**
 * Most messages committed in one transaction. It bounds how long one commit takes, and so how long
 * the first message of a batch waits behind the others: each message also writes its index entries
 * and counters, some tens of microseconds, so 256 of them take a few milliseconds.
 */
const MAX_BATCH_SIZE = 256;

export type SqliteStoreOptions = {
  path: string;
  /** Most writes waiting or being committed; beyond it insert rejects at once with queue_full. */
  queueLimit: number;
  log?: Logger;
  now?: () => Date;
  /** Called after each batch with its size, for metrics. */
  onBatch?: (size: number, committed: boolean) => void;
  /**
   * Called once if the writer thread stops without close() (a crash, running out of memory). It
   * is not restarted in place: whatever killed it may do so again, so the owner should stop the
   * process and let its supervisor start a fresh one. Meanwhile writes answer 503.
   */
  onWriterStopped?: () => void;
};

export function openSqliteDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  // Our two connections (reader here, writer thread) never wait on each other under WAL; a lock
  // held from outside (a backup, an operator's sqlite3 shell) is waited for up to 5 s, then the
  // write or read fails with SQLITE_BUSY (503 or 500) rather than hanging a request for good.
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db);
  return db;
}

type Writer = {
  write(requests: readonly WriteRequest[]): Promise<BatchOutcome>;
  isAlive(): boolean;
  close(): Promise<void>;
};

/** A message the writer could not store while its batch committed (a constraint, a trigger). */
class MessageWriteError extends Error {
  readonly code: string;

  constructor(code: string) {
    super('the message could not be written');
    this.name = 'MessageWriteError';
    this.code = code;
  }
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { path, queueLimit, log, now = () => new Date(), onBatch, onWriterStopped } = options;
  // This connection creates the file and migrates the schema before the writer opens it.
  const db = openSqliteDatabase(path);
  const queries = prepareMessageQueries(db);
  // Readiness reads a page of the database itself: `SELECT 1` alone would answer without touching
  // the file, so a file that can no longer be read would still look ready.
  const pingQuery = db.prepare('SELECT 1 AS ok FROM message_totals WHERE id = 1');
  // The message count is the total the writer maintains: one row, not a walk of the table.
  const summaryQuery = db.prepare(
    `SELECT (SELECT message_count FROM message_totals WHERE id = 1) AS messages,
            (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()) AS databaseBytes,
            ${SEARCH_BACKLOG_SQL} AS searchBacklog`,
  );
  let writer: Writer;
  try {
    writer = path === ':memory:' ? inlineWriter(db, onIndexError) : await startWriteThread({ path, onUnexpectedExit, onIndexError });
  } catch (error) {
    db.close();
    throw error;
  }

  const queue = createWriteQueue<WriteRequest, InsertResult>({
    writeBatch: async (requests) => settle(await writer.write(requests)),
    limit: queueLimit,
    maxBatchSize: MAX_BATCH_SIZE,
    onBatch,
  });
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

  return {
    async insert(message: InboundMessage): Promise<InsertResult> {
      if (!open || !writer.isAlive()) throw new StoreUnavailableError('writer_stopped');
      return queue.push({ message, createdAt: now().toISOString() });
    },
    async listMessages(query) {
      return queries.listMessages(query);
    },
    async stats() {
      return queries.stats();
    },
    async ping() {
      if (!open || !writer.isAlive()) return false;
      try {
        return (pingQuery.get() as { ok: number } | undefined)?.ok === 1;
      } catch {
        return false;
      }
    },
    async summary() {
      const { messages, databaseBytes, searchBacklog } = summaryQuery.get() as StoreSummary;
      return { messages: Number(messages), databaseBytes: Number(databaseBytes), searchBacklog: Number(searchBacklog) };
    },
    writeStats: () => queue.stats(),
    async close() {
      if (!open) return;
      open = false;
      await queue.drained();
      await writer.close();
      db.close();
    },
  };
}

/** The batch writer and search indexing on the caller's own connection, for `:memory:` databases. */
function inlineWriter(db: DatabaseSync, onIndexError: (code: string) => void): Writer {
  const writeBatch = prepareBatchWriter(db);
  const indexing = scheduleIndexing(prepareSearchIndexer(db), (error) => onIndexError(sqliteErrorCode(error)));
  return {
    async write(requests) {
      const outcome = writeBatch(requests);
      indexing.afterWrite();
      return outcome;
    },
    isAlive: () => db.isOpen,
    close: async () => indexing.finish(),
  };
}
