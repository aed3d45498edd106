// PostgreSQL stores for tests, each test in a schema of its own (the test role may not create
// databases): the schema is made first, named in the search_path of every session the stores open,
// and dropped with everything in it once the test's stores are closed. Skipped like every real
// server test without TEST_DATABASE_URL (support/postgres.ts).
import type { TestContext } from 'node:test';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts';
import { createPool, type Pool } from '../../src/store/postgres/wire/pool.ts';
import type { DatabaseUrl } from '../../src/store/postgres/wire/url.ts';
import type { Store } from '../../src/store/store.ts';
import { optionsFrom, postgresUrl, uniqueName } from './postgres.ts';

export type TestClock = { now: () => Date; advance(ms: number): void; set(date: Date): void };

/** A clock that stands still until told: tests decide what "now" is. */
export function testClock(start = new Date('2025-01-15T10:00:00Z')): TestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
    set(date) {
      current = date.getTime();
    },
  };
}

export type PostgresHarness = {
  /** The test's database settings: the schema first in the search_path. */
  database: DatabaseUrl;
  schema: string;
  /** A pool in the same schema, for looking behind the store's back; closed after the test. */
  admin: Pool;
  /** Opens a store on the schema (another replica, when called again); closed after the test. */
  open(overrides?: Partial<PostgresStoreOptions>): Promise<Store>;
};

/** A fresh schema for this test, or null when the test is skipped. */
export async function postgresHarness(t: TestContext): Promise<PostgresHarness | null> {
  const settings = postgresUrl(t);
  if (settings === null) return null;
  const schema = uniqueName('store_test');
  const database: DatabaseUrl = { ...settings, parameters: { options: `-c search_path=${schema},public` } };
  const admin = createPool({ ...optionsFrom(database), size: 3 });
  const stores: Store[] = [];
  // One hook, so the order is certain: stores first, then the schema, then the pool it is dropped on.
  t.after(async () => {
    for (const store of stores) await store.lifecycle.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    database,
    schema,
    admin,
    async open(overrides = {}) {
      const store = await openPostgresStore({
        database,
        poolSize: 2,
        readPoolSize: 2,
        queueLimit: 10_000,
        retentionDays: null,
        tombstoneDays: 30,
        applicationName: 'store-tests',
        ...overrides,
      });
      stores.push(store);
      return store;
    },
  };
}

/** A deadline far enough away for any read of a test. */
export const roomy = () => ({ deadline: Date.now() + 30_000 });
