// Fills a database file with messages before a service starts on it, through the service's own
// writer and schema, far faster than posting them: for tests that need thousands of rows.
import { join } from 'node:path';
import type { InboundMessage } from '../../src/model/message.ts';
import { prepareMessageWriter } from '../../src/store/sqlite/message-writer.ts';
import { openSqliteDatabase } from '../../src/store/sqlite/open-database.ts';
import { inWriteTransaction } from '../../src/store/sqlite/transaction.ts';

/**
 * Writes `count` messages into `dir`/app.db (the file startService uses), each made by `make`, as
 * received at `receivedAt` (now by default; earlier, for retention).
 */
export function seedMessages(dir: string, count: number, make: (n: number) => InboundMessage, receivedAt = new Date()): void {
  const db = openSqliteDatabase(join(dir, 'app.db'));
  try {
    const write = prepareMessageWriter(db);
    const createdAt = receivedAt.toISOString();
    inWriteTransaction(db, () => {
      for (let n = 0; n < count; n++) write(make(n), createdAt);
    });
  } finally {
    db.close();
  }
}
