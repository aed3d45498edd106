// Opening a SQLite database file the way every connection of this service needs it: the write-ahead
// log, full durability, a bounded wait for locks, and the schema brought up to date. The writer
// thread and the store's own connection both open through here.
//
// The messages are personal data, so the file is made readable by the service's user alone: a new
// folder is created 0700 and a new file 0600 before SQLite opens it, and SQLite gives its -wal and
// -shm files the mode of the database file. Files made by an earlier version (0644) are tightened.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './migrations.ts';

export function openSqliteDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') createPrivately(path);
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

/** Owner-only modes for the folder (when created) and the files of the database. */
export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function createPrivately(path: string): void {
  makeFolders(dirname(path));
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
    } catch {
      // Not ours to change (another owner): the operator's choice stands.
    }
  }
}

/**
 * Creates the folder and any missing parents, each once, from the top down. Not mkdirSync's
 * `recursive`: where mkdir answers ENOENT although the parent exists (under /proc, say), Node's
 * recursive mkdir creates the parent again, is told EEXIST, and retries the child for ever, so
 * startup hung without a word. Here that ENOENT is thrown, and startup fails with its code.
 */
function makeFolders(folder: string): void {
  const missing: string[] = [];
  for (let current = folder; !existsSync(current); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const each of missing) {
    try {
      mkdirSync(each, { mode: PRIVATE_FOLDER_MODE });
    } catch (error) {
      // Made meanwhile by another process starting on the same folder: that is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
