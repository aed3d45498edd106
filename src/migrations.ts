// Numbered schema migrations, applied in order and recorded in PRAGMA user_version, so an existing
// database file is brought forward by exactly the steps it has not seen yet. Append; never edit.
import type { DatabaseSync } from 'node:sqlite';

export const MIGRATIONS: readonly string[] = [
  // 1: the messages table.
  `CREATE TABLE messages (
     message_id  TEXT PRIMARY KEY,
     from_msisdn TEXT NOT NULL,
     to_msisdn   TEXT NOT NULL,
     ts          TEXT NOT NULL,
     text        TEXT,
     created_at  TEXT NOT NULL
   )`,
];

export function migrate(db: DatabaseSync): number {
  const current = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this build supports (${MIGRATIONS.length})`);
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[version - 1] as string);
      db.exec(`PRAGMA user_version = ${version}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  return MIGRATIONS.length;
}
