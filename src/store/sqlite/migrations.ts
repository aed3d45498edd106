// Numbered schema migrations, applied in order and recorded in PRAGMA user_version, so an existing
// database file is brought forward by exactly the steps it has not seen yet. Append; never edit.
import type { DatabaseSync } from 'node:sqlite';
import { inWriteTransaction } from './transaction.ts';

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

  // 2: what the read API needs to stay fast at millions of rows, backfilled from existing rows.
  // - The table is rebuilt with an INTEGER PRIMARY KEY: the search index refers to rows by rowid,
  //   and VACUUM may renumber a rowid that is not declared. message_id stays the unique key.
  // - ts_key: the instant as text that sorts as time does (normalizeTimestamp in validate.ts; the
  //   SQL below is the same rule: nine fractional digits), so order and `since` compare instants.
  // - Two indexes serve every listing order: by instant, and by sender then instant.
  // - messages_text: a contentless FTS5 trigram index of text, keyed by messages.id, for substring
  //   search; null text is not indexed. It records only which rows hold each trigram (detail=none,
  //   no column sizes): a search asks for rows holding all of the query's trigrams and then checks
  //   each candidate's text, so positions would add size and write time without deciding anything.
  // - sender_counts and message_totals: counters maintained with each insert (message-writer.ts),
  //   so /stats and the common `total`s read a few rows instead of counting the table.
  `CREATE TABLE messages_v2 (
     id          INTEGER PRIMARY KEY,
     message_id  TEXT NOT NULL UNIQUE,
     from_msisdn TEXT NOT NULL,
     to_msisdn   TEXT NOT NULL,
     ts          TEXT NOT NULL,
     ts_key      TEXT NOT NULL,
     text        TEXT,
     created_at  TEXT NOT NULL
   );
   INSERT INTO messages_v2 (message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     SELECT message_id, from_msisdn, to_msisdn, ts,
            substr(ts, 1, 19) || '.' || substr(rtrim(substr(ts, 21), 'Z') || '000000000', 1, 9) || 'Z',
            text, created_at
     FROM messages ORDER BY rowid;
   DROP TABLE messages;
   ALTER TABLE messages_v2 RENAME TO messages;
   CREATE INDEX messages_by_instant ON messages (ts_key, message_id);
   CREATE INDEX messages_by_sender ON messages (from_msisdn, ts_key, message_id);

   CREATE VIRTUAL TABLE messages_text USING fts5(
     text, content = '', tokenize = 'trigram', detail = none, columnsize = 0
   );
   INSERT INTO messages_text (rowid, text) SELECT id, text FROM messages WHERE text IS NOT NULL;

   CREATE TABLE sender_counts (
     from_msisdn   TEXT PRIMARY KEY,
     message_count INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO sender_counts (from_msisdn, message_count)
     SELECT from_msisdn, count(*) FROM messages GROUP BY from_msisdn;
   CREATE INDEX sender_counts_by_count ON sender_counts (message_count DESC, from_msisdn);

   CREATE TABLE message_totals (
     id            INTEGER PRIMARY KEY CHECK (id = 1),
     message_count INTEGER NOT NULL,
     sender_count  INTEGER NOT NULL
   );
   INSERT INTO message_totals (id, message_count, sender_count)
     VALUES (1, (SELECT count(*) FROM messages), (SELECT count(*) FROM sender_counts))`,

  // 3: the search index is written in chunks after the messages it covers (search-index.ts), so
  // it records how far it has got. Until now every message was indexed as it was stored.
  `CREATE TABLE search_progress (
     id              INTEGER PRIMARY KEY CHECK (id = 1),
     indexed_through INTEGER NOT NULL
   );
   INSERT INTO search_progress (id, indexed_through) VALUES (1, (SELECT coalesce(max(id), 0) FROM messages))`,

  // 4: the ten senders /stats ranks, kept as a table of their own (message-writer.ts) instead of
  // an index of every sender by count, which every message had to update.
  `CREATE TABLE top_senders (
     from_msisdn   TEXT PRIMARY KEY,
     message_count INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO top_senders (from_msisdn, message_count)
     SELECT from_msisdn, message_count FROM sender_counts ORDER BY message_count DESC, from_msisdn ASC LIMIT 10;
   DROP INDEX sender_counts_by_count`,

  // 5: what deleting messages needs (erasure and retention, issue 17).
  // - AUTOINCREMENT: a plain INTEGER PRIMARY KEY may give a deleted newest row's id to the next
  //   message, which would then sit at or below the search index's progress mark and never be
  //   indexed, and would reuse a feed position already handed out. The table is rebuilt with the
  //   same ids (the search index refers to them); sqlite_sequence keeps the highest id ever given.
  // - erased_ids: tombstones of erased and expired ids, a keyed hash of each (never the id
  //   itself), so a redelivery is acknowledged and not stored again; purged after a period.
  // - settings: the random key of those hashes, made once per database.
  `CREATE TABLE messages_v5 (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     message_id  TEXT NOT NULL UNIQUE,
     from_msisdn TEXT NOT NULL,
     to_msisdn   TEXT NOT NULL,
     ts          TEXT NOT NULL,
     ts_key      TEXT NOT NULL,
     text        TEXT,
     created_at  TEXT NOT NULL
   );
   INSERT INTO messages_v5 (id, message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at)
     SELECT id, message_id, from_msisdn, to_msisdn, ts, ts_key, text, created_at FROM messages ORDER BY id;
   DROP TABLE messages;
   ALTER TABLE messages_v5 RENAME TO messages;
   CREATE INDEX messages_by_instant ON messages (ts_key, message_id);
   CREATE INDEX messages_by_sender ON messages (from_msisdn, ts_key, message_id);
   INSERT INTO sqlite_sequence (name, seq)
     SELECT 'messages', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');

   CREATE TABLE erased_ids (
     id_hash   BLOB PRIMARY KEY,
     erased_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX erased_ids_by_time ON erased_ids (erased_at);
   ALTER TABLE message_totals ADD COLUMN tombstone_count INTEGER NOT NULL DEFAULT 0;

   CREATE TABLE settings (
     name  TEXT PRIMARY KEY,
     value BLOB NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO settings (name, value) VALUES ('tombstone_key', randomblob(32))`,
];

export function migrate(db: DatabaseSync): number {
  const current = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this build supports (${MIGRATIONS.length})`);
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    inWriteTransaction(db, () => {
      db.exec(MIGRATIONS[version - 1] as string);
      db.exec(`PRAGMA user_version = ${version}`);
    });
  }
  return MIGRATIONS.length;
}
