// Opening a SQLite database file the way every connection of this service needs it: the write-ahead
// log, full durability, a bounded wait for locks, and the schema brought up to date. The writer
// thread and the store's own connection both open through here.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './migrations.ts';

export function openSqliteDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  // FULL fsyncs the log on every commit, so a commit that has returned survives a power loss.
  db.exec('PRAGMA synchronous = FULL');
  // Our connections never wait on each other under WAL; a lock held from outside (a backup, an
  // operator's sqlite3 shell) is waited for up to 5 s, then the write or read fails with
  // SQLITE_BUSY (503 or 500) rather than hanging a request for good.
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db);
  return db;
}
