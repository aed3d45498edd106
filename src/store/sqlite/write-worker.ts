// The writer thread's entry point (started by write-thread.ts, never imported). It owns the only
// write connection: every durable commit, and so every fsync, happens here, off the event loop that
// serves HTTP. It answers each batch only after its COMMIT has returned, runs the deletes of erasure
// and retention (message-eraser.ts) between batches, and brings the search index up to date
// (search-index.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';
import { openSqliteDatabase } from './open-database.ts';
import { prepareSearchIndexer, scheduleIndexing } from './search-index.ts';
import { eraseRunner } from './erase-runner.ts';
import { prepareEraser } from './message-eraser.ts';
import { prepareTombstones } from './tombstones.ts';
import { prepareBatchWriter } from './write-batch.ts';
import { sqliteErrorCode } from './sqlite-error.ts';
import type { FromWriter, ToWriter } from './writer-messages.ts';

const port = parentPort;
if (port === null) throw new Error('write-worker.ts runs as a worker thread, started by write-thread.ts');
const reply = (message: FromWriter) => port.postMessage(message);

/**
 * WAL pages after which a commit also checkpoints (SQLite's default is 1,000). A checkpoint copies
 * every page changed since the last one into the database file and fsyncs it, inside the commit
 * that triggers it, so every request waiting meanwhile waits for it too, and the more pages, the
 * longer: fewer pages per checkpoint trade a little throughput for a lower p99 (README, "Checkpoints").
 */
const CHECKPOINT_EVERY_PAGES = 2_000;

const db = openOrReport((workerData as { path: string }).path);
if (db !== null) {
  db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_EVERY_PAGES}`);
  const tombstones = prepareTombstones(db);
  const writeBatch = prepareBatchWriter(db, tombstones);
  const erase = eraseRunner(prepareEraser(db, tombstones));
  const indexing = scheduleIndexing(prepareSearchIndexer(db), (error) => reply({ kind: 'index_failed', code: sqliteErrorCode(error) }));
  port.on('message', (message: ToWriter) => {
    if (message.kind === 'write') {
      reply({ kind: 'written', outcome: writeBatch(message.requests) });
      indexing.afterWrite();
    } else if (message.kind !== 'close') {
      reply({ kind: 'erased', outcome: erase(message) });
    } else {
      indexing.finish();
      // Closing the port ends the thread once this handler returns.
      db.close();
      port.close();
    }
  });
  reply({ kind: 'ready' });
}

function openOrReport(path: string): DatabaseSync | null {
  try {
    return openSqliteDatabase(path);
  } catch (error) {
    // Only the code crosses over: the message may name paths or SQL.
    reply({ kind: 'failed', code: error instanceof Error && 'code' in error ? String(error.code) : undefined });
    port?.close();
    return null;
  }
}
