// Transactions on one node:sqlite connection. node:sqlite is synchronous, so `work` runs to the end
// without another request interleaving on this connection; the transaction is what makes it
// atomic on disk (writes) and one consistent snapshot against other connections (reads).
import type { DatabaseSync } from 'node:sqlite';

/** Runs `work` in a write transaction: all of it commits, or none of it does. */
export function inWriteTransaction<T>(db: DatabaseSync, work: () => T): T {
  // IMMEDIATE takes the write lock up front, so a busy database fails at BEGIN (after
  // busy_timeout), never halfway through the work.
  return inTransaction(db, 'BEGIN IMMEDIATE', work);
}

/** Runs `work` in a read transaction: every statement sees the same snapshot of the database. */
export function inReadTransaction<T>(db: DatabaseSync, work: () => T): T {
  return inTransaction(db, 'BEGIN', work);
}

function inTransaction<T>(db: DatabaseSync, begin: string, work: () => T): T {
  db.exec(begin);
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
