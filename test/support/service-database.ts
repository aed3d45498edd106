// The database a black-box test's service runs on, named by the test's folder (`dir`), so a service
// restarted on the same folder finds the same data:
// - sqlite: the file `dir`/app.db.
// - postgres (TEST_BACKEND=postgres): a schema of its own on TEST_DATABASE_URL (the test role may
//   not create databases), first in the service's search_path, created on first use and dropped,
//   with everything in it, once the test ends and every process that used it has exited.
// Tests read what was stored through `rows`, the same shape on both.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import { createPool, type Pool } from '../../src/store/postgres/wire/pool.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../src/store/postgres/wire/url.ts';
import { testBackend, type Backend } from './backend.ts';
import { optionsFrom } from './postgres.ts';

/** A stored message as a test reads it; created_at is ISO-8601 UTC with milliseconds on both backends. */
export type StoredRow = { message_id: string; from_msisdn: string; to_msisdn: string; ts: string; text: string | null; created_at: string };

export type ServiceDatabase = {
  backend: Backend;
  /** The DATABASE_URL the service is given. */
  url: string;
  /** PostgreSQL: the settings of `url`, for opening a store or a pool on the same schema; null on SQLite. */
  postgres: DatabaseUrl | null;
  /** Every stored message, ordered by message_id (byte order on both). */
  rows(): Promise<StoredRow[]>;
  /** PostgreSQL: the schema is dropped only after `stop` has resolved: it ends something using the schema (a service, a store, a session). */
  usedBy(stop: () => Promise<unknown>): void;
};

const COLUMNS = 'message_id, from_msisdn, to_msisdn, ts, text';

/** Reads the stored rows straight from a SQLite file (WAL allows a second reader). */
export function sqliteRows(path: string): StoredRow[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(`SELECT ${COLUMNS}, created_at FROM messages ORDER BY message_id`).all() as StoredRow[];
  } finally {
    db.close();
  }
}

/** The schemas of the tests now running, by folder: a restart on `dir` must find the same one. */
const schemas = new Map<string, Promise<ServiceDatabase>>();

export async function serviceDatabase(t: TestContext, dir: string): Promise<ServiceDatabase> {
  if (testBackend === 'sqlite') {
    const path = join(dir, 'app.db');
    return { backend: 'sqlite', url: `sqlite:///${path}`, postgres: null, rows: async () => sqliteRows(path), usedBy() {} };
  }
  let schema = schemas.get(dir);
  if (schema === undefined) {
    schema = createSchema(t, dir);
    schemas.set(dir, schema);
    schema.catch(() => schemas.delete(dir));
  }
  return schema;
}

async function createSchema(t: TestContext, dir: string): Promise<ServiceDatabase> {
  const base = process.env.TEST_DATABASE_URL;
  if (base === undefined || base === '') assert.fail('TEST_BACKEND=postgres needs TEST_DATABASE_URL: eval "$(scripts/pg-test-cluster.sh start)"');
  const name = `service_test_${randomBytes(6).toString('hex')}`;
  const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${name},public`)}`;
  const parsed = parseDatabaseUrl(url);
  if (!parsed.ok) assert.fail(`TEST_DATABASE_URL: ${parsed.error}`);
  const pool: Pool = createPool({ ...optionsFrom(parsed.value, { applicationName: `service-tests ${name}` }), size: 1 });
  const users: (() => Promise<unknown>)[] = [];
  // One hook, so the order is certain: everything using the schema has stopped (services of this
  // test registered later have after hooks that would run only after this one), then the schema
  // goes, then the pool it was dropped on.
  t.after(async () => {
    await Promise.all(users.map((stop) => stop()));
    schemas.delete(dir);
    await pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await pool.close();
  });
  await pool.query(`CREATE SCHEMA ${name}`);
  return {
    backend: 'postgres',
    url,
    postgres: parsed.value,
    async rows() {
      const result = await pool.query(
        `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM messages ORDER BY message_id`,
      );
      return result.rows.map(([messageId, from, to, ts, text, createdAt]) => ({
        message_id: messageId as string,
        from_msisdn: from as string,
        to_msisdn: to as string,
        ts: ts as string,
        text: text ?? null,
        created_at: createdAt as string,
      }));
    },
    usedBy: (stop) => users.push(stop),
  };
}
