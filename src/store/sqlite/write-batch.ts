// Group commit: a batch of messages is written in one transaction, so it costs one fsync instead of
// one per message. One message that fails (a constraint, a bug in a trigger) must not fail its
// neighbours, yet a savepoint around every message would add work to every batch for a case that
// almost never happens. So a batch is first written plainly; only if a message fails is it rolled
// back and written again with a savepoint per message, which undoes the failing one alone. If the
// transaction itself fails (BEGIN, COMMIT, or an error after which SQLite abandons the transaction,
// such as a full disk or an I/O error), it is rolled back and nothing of the batch is stored.
import type { DatabaseSync } from 'node:sqlite';
import { prepareMessageWriter } from './message-writer.ts';
import type { InsertResult } from '../store.ts';
import { sqliteErrorCode } from './sqlite-error.ts';
import type { Tombstones } from './tombstones.ts';
import { inWriteTransaction } from './transaction.ts';
import type { InboundMessage } from '../../model/message.ts';

export type WriteRequest = { message: InboundMessage; createdAt: string };

/**
 * Plain data, so it can cross a worker boundary. A failure carries only the SQLite result code
 * (`SQLITE_<number>`, extended codes included): error messages may quote SQL or data and never
 * leave the writer.
 */
export type RowOutcome = { ok: true; result: InsertResult } | { ok: false; code: string };
export type BatchOutcome = { ok: true; rows: RowOutcome[] } | { ok: false; code: string };

export type BatchWriter = (requests: readonly WriteRequest[]) => BatchOutcome;

export function prepareBatchWriter(db: DatabaseSync, tombstones?: Tombstones): BatchWriter {
  const writeMessage = prepareMessageWriter(db, tombstones);
  const savepoint = db.prepare('SAVEPOINT message');
  const release = db.prepare('RELEASE message');
  const rollbackToSavepoint = db.prepare('ROLLBACK TO message');

  function writeIsolated({ message, createdAt }: WriteRequest): RowOutcome {
    savepoint.run();
    try {
      const result = writeMessage(message, createdAt);
      release.run();
      return { ok: true, result };
    } catch (error) {
      // After some errors SQLite has already rolled back the whole transaction: later messages
      // would then run in autocommit mode, outside the batch. Fail the batch instead.
      if (!db.isTransaction) throw error;
      rollbackToSavepoint.run();
      release.run();
      return { ok: false, code: sqliteErrorCode(error) };
    }
  }

  return (requests) => {
    let messageFailed = false;
    try {
      const rows = inWriteTransaction(db, () =>
        requests.map(({ message, createdAt }): RowOutcome => {
          try {
            return { ok: true, result: writeMessage(message, createdAt) };
          } catch (error) {
            messageFailed = true;
            throw error;
          }
        }),
      );
      return { ok: true, rows };
    } catch (error) {
      if (!messageFailed) return { ok: false, code: sqliteErrorCode(error) };
    }
    try {
      return { ok: true, rows: inWriteTransaction(db, () => requests.map(writeIsolated)) };
    } catch (error) {
      return { ok: false, code: sqliteErrorCode(error) };
    }
  };
}
