// The writer thread's entry point (started by write-thread.ts, never imported). It owns the only
// write connection: every durable commit, and so every fsync, happens here, off the event loop that
// serves HTTP. It answers each batch only after its COMMIT has returned.
import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';
import { openSqliteDatabase } from './sqlite-store.ts';
import { prepareBatchWriter } from './write-batch.ts';
import type { FromWriter, ToWriter } from './write-thread.ts';

const port = parentPort;
if (port === null) throw new Error('write-worker.ts runs as a worker thread, started by write-thread.ts');
const reply = (message: FromWriter) => port.postMessage(message);

const db = openOrReport((workerData as { path: string }).path);
if (db !== null) {
  const writeBatch = prepareBatchWriter(db);
  port.on('message', (message: ToWriter) => {
    if (message.kind === 'write') {
      reply({ kind: 'written', outcome: writeBatch(message.requests) });
    } else {
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
