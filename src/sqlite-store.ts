// The SQLite store on node:sqlite. Durability: WAL with synchronous=FULL fsyncs the log on every
// commit, so a resolved insert survives a process crash (kill -9) and a power loss. Writes go
// through message-writer.ts, reads through message-queries.ts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { prepareMessageQueries } from './message-queries.ts';
import { prepareMessageWriter } from './message-writer.ts';
import { migrate } from './migrations.ts';
import type { InsertResult, Store, StoreSummary } from './store.ts';
import { inWriteTransaction } from './transaction.ts';
import type { InboundMessage } from './validate.ts';

export type SqliteStoreOptions = { path: string; now?: () => Date };

export function openSqliteDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db);
  return db;
}

export function openSqliteStore({ path, now = () => new Date() }: SqliteStoreOptions): Store {
  const db = openSqliteDatabase(path);
  const writeMessage = prepareMessageWriter(db);
  const queries = prepareMessageQueries(db);
  const pingQuery = db.prepare('SELECT 1 AS ok');
  // The message count is the total the writer maintains: one row, not a walk of the table.
  const summaryQuery = db.prepare(
    `SELECT (SELECT message_count FROM message_totals WHERE id = 1) AS messages,
            (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()) AS databaseBytes`,
  );
  let open = true;

  return {
    async insert(message: InboundMessage): Promise<InsertResult> {
      // One transaction and one fsync per message: the row and its aggregates commit together,
      // durably, before the promise resolves.
      return inWriteTransaction(db, () => writeMessage(message, now().toISOString()));
    },
    async listMessages(query) {
      return queries.listMessages(query);
    },
    async stats() {
      return queries.stats();
    },
    async ping() {
      if (!open) return false;
      try {
        return (pingQuery.get() as { ok: number } | undefined)?.ok === 1;
      } catch {
        return false;
      }
    },
    async summary() {
      const { messages, databaseBytes } = summaryQuery.get() as StoreSummary;
      return { messages: Number(messages), databaseBytes: Number(databaseBytes) };
    },
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
