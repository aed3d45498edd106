// The search index (messages_text, migration 2) is written after the messages it covers, in chunks,
// not inside each message's own transaction. FTS5 writes one index segment per transaction and
// merges segments as they pile up, so indexing costs far less per message in a transaction of a
// thousand than in a write batch of a few dozen, and the difference grows with the index (measured
// in the README, "Measured ingest throughput").
//
// search_progress.indexed_through (migration 3) records the highest message id whose text is in the
// index; it moves in the same transaction as the index rows, so the two always agree on disk, even
// after a crash. Message ids only grow (one writer, and AUTOINCREMENT never gives an erased id
// again), so every message above the mark is not indexed yet, and a search checks those rows' text directly (message-queries.ts): the index
// lags, a search never does.
import type { DatabaseSync } from 'node:sqlite';
import { inWriteTransaction } from './transaction.ts';

/** Most messages indexed in one transaction: large enough to be cheap, small enough to be brief. */
export const INDEX_CHUNK = 1_000;
/** The longest a message waits to be indexed when fewer than a chunk are waiting. */
export const INDEX_LAG_MS = 100;
/** After a failed attempt, when the next one comes even if no write arrives meanwhile. */
export const INDEX_RETRY_MS = 1_000;

/** Messages stored but not indexed yet, as one SQL expression (the store's metrics read it too). */
export const SEARCH_BACKLOG_SQL =
  '(SELECT count(*) FROM messages WHERE id > (SELECT indexed_through FROM search_progress WHERE id = 1))';

export type SearchIndexer = {
  /** Messages stored but not indexed yet. */
  backlog(): number;
  /** Indexes up to `limit` of the oldest messages not indexed yet, in one transaction; returns how many. */
  indexNext(limit: number): number;
};

export function prepareSearchIndexer(db: DatabaseSync): SearchIndexer {
  const backlog = db.prepare(`SELECT ${SEARCH_BACKLOG_SQL} AS backlog`);
  const mark = db.prepare('SELECT indexed_through FROM search_progress WHERE id = 1');
  // The id that ends the next chunk: the limit-th message above the mark, or the last one.
  const chunkEnd = db.prepare(
    'SELECT max(id) AS upto, count(*) AS n FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)',
  );
  const indexRange = db.prepare(
    'INSERT INTO messages_text (rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? AND text IS NOT NULL',
  );
  const advance = db.prepare('UPDATE search_progress SET indexed_through = ? WHERE id = 1');

  return {
    backlog: () => (backlog.get() as { backlog: number }).backlog,
    indexNext(limit) {
      return inWriteTransaction(db, () => {
        const { indexed_through: through } = mark.get() as { indexed_through: number };
        const { upto, n } = chunkEnd.get(through, limit) as { upto: number | null; n: number };
        if (upto === null) return 0;
        indexRange.run(through, upto);
        advance.run(upto);
        return n;
      });
    },
  };
}

export type IndexSchedule = {
  /** Call after each committed write batch. */
  afterWrite(): void;
  /** Indexes everything still waiting and stops the timer. */
  finish(): void;
};

/**
 * When the writer indexes: a full chunk at once, else whatever waits once the oldest of it has
 * waited INDEX_LAG_MS. A chunk is a transaction of its own between two write batches, so a batch
 * waits for at most two chunks: the one after the batch ahead of it (afterWrite), and a catch-up
 * chunk whose timer came due meanwhile. Errors never throw, since the messages are already committed and
 * a later attempt indexes them (the next write, or a retry after INDEX_RETRY_MS); `onError` hears
 * the first of each run of failures.
 */
export function scheduleIndexing(indexer: SearchIndexer, onError: (error: unknown) => void): IndexSchedule {
  let timer: NodeJS.Timeout | null = null;
  let failing = false;

  function report(error: unknown): void {
    if (!failing) onError(error);
    failing = true;
  }

  /** Indexes one chunk; true when it was full, so more may be waiting. */
  function indexChunk(): boolean {
    try {
      const full = indexer.indexNext(INDEX_CHUNK) === INDEX_CHUNK;
      failing = false;
      return full;
    } catch (error) {
      report(error);
      return false;
    }
  }

  function backlog(): number {
    try {
      return indexer.backlog();
    } catch (error) {
      report(error);
      return 0;
    }
  }

  function later(delayMs: number): void {
    // The timer never keeps a process alive on its own; finish() indexes what is left.
    timer = setTimeout(catchUp, delayMs).unref();
  }

  function catchUp(): void {
    timer = null;
    // After a full chunk, the next one waits its turn behind the write batches already queued;
    // after a failure, an idle service tries again on its own.
    if (indexChunk()) later(0);
    else if (failing) later(INDEX_RETRY_MS);
  }

  // Messages left waiting by a crash or a kill are indexed soon after start.
  if (backlog() > 0 || failing) later(0);

  return {
    afterWrite() {
      if (backlog() >= INDEX_CHUNK) indexChunk();
      // Whatever is left (or arrives next) is indexed once it has waited INDEX_LAG_MS at most.
      if (timer === null) later(INDEX_LAG_MS);
    },
    finish() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      while (indexChunk());
    },
  };
}
