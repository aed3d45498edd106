// Numbered schema migrations, applied in order and recorded in schema_migrations, so an existing
// database is brought forward by exactly the steps it has not seen yet. Append; never edit.
//
// They run at open, in one transaction holding an advisory lock: replicas that start together
// queue on the lock, and the first migrates while the others then find nothing left to do. A
// database migrated by a newer build (a version this build does not know) is refused: this code
// cannot know what the newer schema means.
//
// Migration 1 needs the pg_trgm extension. CREATE EXTENSION needs the CREATE privilege on the
// database (pg_trgm is a trusted extension since PostgreSQL 13, so the database owner may); where
// the service's role has no such right, an administrator creates it once beforehand, and the
// IF NOT EXISTS then does nothing.
import type { PgConnection } from './wire/client.ts';
import type { LockKey } from './lock-keys.ts';

/** How many rows hold the running totals (message_totals): writers spread over them (message-batch.ts). */
export const TOTAL_SHARDS = 16;

/** What a migration may depend on besides the schema itself. */
type Context = { trigramOps: string };

const MIGRATIONS: readonly ((context: Context) => string[])[] = [
  // 1: everything the store needs.
  // - messages: ts_key is the instant as text that sorts as time does (normalizeTimestamp), txid
  //   the transaction that stored the row (feed.ts), created_at when it was received (retention).
  //   Every text compared or ordered is COLLATE "C": byte order of UTF-8, as SQLite compares, so
  //   both backends list in the same order whatever the database's own collation is.
  // - Indexes: listing order and `since` (ts_key, message_id); `from` (from_msisdn, ts_key,
  //   message_id), already in listing order; the feed (txid, message_id); retention (created_at);
  //   `q` (trigrams of text, which only narrow the candidates: message-listing.ts).
  // - sender_counts: one row per sender, never zero (the eraser deletes a row that would be); its
  //   index by count serves the ten busiest senders of /stats.
  // - message_totals: the totals of /stats and of unfiltered listings, spread over TOTAL_SHARDS
  //   rows that each writer connection picks by its process id, so writers from many replicas do
  //   not queue on one row; readers add them up. A shard may go negative (an erasure on another
  //   connection than the insert); only the sum means anything.
  // - tombstones: HMAC-SHA256 of each erased message_id under store_secrets.tombstone_key
  //   (tombstone-key.ts), with when it was erased: the id itself is not kept.
  ({ trigramOps }) => [
    `CREATE TABLE messages (
       message_id  text COLLATE "C" PRIMARY KEY,
       from_msisdn text COLLATE "C" NOT NULL,
       to_msisdn   text NOT NULL,
       ts          text NOT NULL,
       ts_key      text COLLATE "C" NOT NULL,
       text        text COLLATE "C",
       created_at  timestamptz NOT NULL,
       txid        xid8 NOT NULL DEFAULT pg_current_xact_id()
     )`,
    'CREATE INDEX messages_by_instant ON messages (ts_key, message_id)',
    'CREATE INDEX messages_by_sender ON messages (from_msisdn, ts_key, message_id)',
    'CREATE INDEX messages_by_commit ON messages (txid, message_id)',
    'CREATE INDEX messages_by_arrival ON messages (created_at)',
    `CREATE INDEX messages_text_trigrams ON messages USING gin (text ${trigramOps})`,
    `CREATE TABLE sender_counts (
       from_msisdn   text COLLATE "C" PRIMARY KEY,
       message_count bigint NOT NULL CHECK (message_count > 0)
     )`,
    'CREATE INDEX sender_counts_by_count ON sender_counts (message_count DESC, from_msisdn)',
    `CREATE TABLE message_totals (
       shard           smallint PRIMARY KEY CHECK (shard >= 0 AND shard < ${TOTAL_SHARDS}),
       message_count   bigint NOT NULL DEFAULT 0,
       sender_count    bigint NOT NULL DEFAULT 0,
       tombstone_count bigint NOT NULL DEFAULT 0
     )`,
    `INSERT INTO message_totals (shard) SELECT generate_series(0, ${TOTAL_SHARDS - 1})`,
    `CREATE TABLE tombstones (
       id_hash   bytea PRIMARY KEY CHECK (length(id_hash) = 32),
       erased_at timestamptz NOT NULL
     )`,
    'CREATE INDEX tombstones_by_age ON tombstones (erased_at)',
    `CREATE TABLE store_secrets (
       id            smallint PRIMARY KEY CHECK (id = 1),
       tombstone_key bytea NOT NULL CHECK (length(tombstone_key) = 32)
     )`,
  ],
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema is newer than this build: refuse to start rather than misread it. */
export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`database schema version ${found} is newer than this build supports (${SCHEMA_VERSION}); run a newer build`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the schema up to SCHEMA_VERSION. Call it inside a transaction on `connection` (BEGIN ...
 * COMMIT by the caller): the lock is held until that transaction ends, and a failure leaves the
 * database as it was. Resolves with the version the database was at before.
 */
export async function migrate(connection: PgConnection, lock: LockKey): Promise<number> {
  await connection.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', lock);
  await connection.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    integer PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const found = Number((await connection.query('SELECT coalesce(max(version), 0) FROM schema_migrations')).rows[0]?.[0]);
  if (found > SCHEMA_VERSION) throw new SchemaTooNewError(found);
  if (found === SCHEMA_VERSION) return found;

  await connection.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  const context = { trigramOps: await trigramOperatorClass(connection) };
  for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
    for (const sql of (MIGRATIONS[version - 1] as (context: Context) => string[])(context)) await connection.query(sql);
    await connection.query('INSERT INTO schema_migrations (version) VALUES ($1::int)', [String(version)]);
  }
  return found;
}

/**
 * The trigram operator class, qualified by the schema the extension lives in: the index must not
 * depend on the search_path of whichever session migrates.
 */
async function trigramOperatorClass(connection: PgConnection): Promise<string> {
  const result = await connection.query(
    `SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  const schema = result.rows[0]?.[0];
  if (schema === undefined || schema === null) throw new Error('the pg_trgm extension is missing');
  return `${quoteIdentifier(schema)}.gin_trgm_ops`;
}

/** A double-quoted SQL identifier: the only value this file puts into SQL text, and a catalog name. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
