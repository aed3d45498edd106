// PostgreSQL stores for tests, each test in a schema of its own (the test role may not create
// databases): the schema is made first, named in the search_path of every session the stores open,
// and dropped with everything in it once the test's stores are closed. Skipped like every real
// server test without TEST_DATABASE_URL (support/postgres.ts).
import assert from 'node:assert/strict';
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
  /** The application_name of the stores' sessions: this test's own, to find them in pg_stat_activity. */
  applicationName: string;
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
  const applicationName = `store-tests ${schema}`;
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
    applicationName,
    admin,
    async open(overrides = {}) {
      const store = await openPostgresStore({
        database,
        poolSize: 2,
        readPoolSize: 2,
        queueLimit: 10_000,
        retentionDays: null,
        tombstoneDays: 30,
        applicationName,
        ...overrides,
      });
      stores.push(store);
      return store;
    },
  };
}

/** A deadline far enough away for any read of a test. */
export const roomy = () => ({ deadline: Date.now() + 30_000 });

/**
 * Checks every maintained counter against the rows it counts: the sharded totals against the
 * messages, sender_counts against the messages grouped by sender, tombstones against their table.
 */
export async function countersAgree(admin: Pool): Promise<{ messages: number; senders: number; tombstones: number }> {
  const [totals] = (await admin.query(
    `SELECT (SELECT sum(message_count) FROM message_totals) = (SELECT count(*) FROM messages),
            (SELECT sum(sender_count) FROM message_totals) = (SELECT count(*) FROM sender_counts),
            (SELECT sum(tombstone_count) FROM message_totals) = (SELECT count(*) FROM tombstones),
            NOT EXISTS (
              (SELECT from_msisdn, count(*) FROM messages GROUP BY from_msisdn
               EXCEPT SELECT from_msisdn, message_count FROM sender_counts)
              UNION ALL
              (SELECT from_msisdn, message_count FROM sender_counts
               EXCEPT SELECT from_msisdn, count(*) FROM messages GROUP BY from_msisdn)
            ),
            (SELECT count(*) FROM messages), (SELECT count(*) FROM sender_counts), (SELECT count(*) FROM tombstones)`,
  )).rows;
  assert.deepEqual(totals?.slice(0, 4), ['t', 't', 't', 't'], 'every counter equals what it counts');
  return { messages: Number(totals?.[4]), senders: Number(totals?.[5]), tombstones: Number(totals?.[6]) };
}
