// Fills the database of a service not yet started on `dir` (service-database.ts) with messages,
// through the backend's own writer and schema, far faster than posting them, and as received at a
// chosen time: for tests that need thousands of rows, or rows received long ago (retention).
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { InboundMessage } from '../../src/model/message.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { prepareMessageWriter } from '../../src/store/sqlite/message-writer.ts';
import { openSqliteDatabase } from '../../src/store/sqlite/open-database.ts';
import { inWriteTransaction } from '../../src/store/sqlite/transaction.ts';
import { serviceDatabase } from './service-database.ts';

/** Messages handed to the PostgreSQL store at once: its batches hold at most 256. */
const POSTGRES_CHUNK = 1_000;

/**
 * Writes `count` messages into the database startService uses for `dir`, each made by `make`, as
 * received at `receivedAt` (now by default; earlier, for retention).
 */
export async function seedMessages(
  t: TestContext,
  dir: string,
  count: number,
  make: (n: number) => InboundMessage,
  receivedAt = new Date(),
): Promise<void> {
  const database = await serviceDatabase(t, dir);
  if (database.postgres !== null) {
    const store = await openPostgresStore({
      database: database.postgres,
      applicationName: 'service-tests seed',
      poolSize: 2,
      readPoolSize: 1,
      queueLimit: POSTGRES_CHUNK,
      retentionDays: null,
      tombstoneDays: 8,
      now: () => receivedAt,
    });
    try {
      for (let start = 0; start < count; start += POSTGRES_CHUNK) {
        const chunk = Array.from({ length: Math.min(POSTGRES_CHUNK, count - start) }, (_, n) => make(start + n));
        await store.sink.insertMany(chunk);
      }
    } finally {
      await store.lifecycle.close();
    }
    return;
  }
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
