// A real PostgreSQL for tests, named by environment variables as scripts/pg-test-cluster.sh prints
// them: TEST_DATABASE_URL (sslmode=disable), TEST_DATABASE_TLS_URL (verify-full against the
// cluster's CA, host localhost), TEST_DATABASE_TLS_ONLY_URL (a role pg_hba admits over TLS only).
// Unset, a test is skipped and says how to get one, unless REQUIRE_POSTGRES=1 (CI): then it fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect as connectTcp, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import type { ConnectOptions } from '../../src/store/postgres/wire/connect.ts';
import { createPool, type Pool, type PoolOptions } from '../../src/store/postgres/wire/pool.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../src/store/postgres/wire/url.ts';

export type UrlVariable = 'TEST_DATABASE_URL' | 'TEST_DATABASE_TLS_URL' | 'TEST_DATABASE_TLS_ONLY_URL';

/** The settings in `variable`, or null after marking the test skipped. */
export function postgresUrl(t: TestContext, variable: UrlVariable = 'TEST_DATABASE_URL'): DatabaseUrl | null {
  const url = process.env[variable];
  if (url === undefined || url === '') {
    if (process.env.REQUIRE_POSTGRES === '1') assert.fail(`${variable} is not set, and REQUIRE_POSTGRES=1 requires a real PostgreSQL`);
    t.skip(`${variable} is not set; for a throwaway server: eval "$(scripts/pg-test-cluster.sh start)"`);
    return null;
  }
  const parsed = parseDatabaseUrl(url);
  if (!parsed.ok) assert.fail(`${variable}: ${parsed.error}`);
  return parsed.value;
}

/** Connection options from URL settings; the URL's null fields become absent options. */
export function optionsFrom(settings: DatabaseUrl, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    tls: settings.tls,
    parameters: settings.parameters,
    applicationName: settings.applicationName ?? 'wire-tests',
    ...overrides,
  };
}

/** Per pool, what must run on it before it closes (scratch tables to drop): t.after hooks run in order. */
const beforeClose = new WeakMap<Pool, (() => Promise<unknown>)[]>();

/** A pool on the real server, closed after the test; null when the test is skipped. */
export function realPool(t: TestContext, overrides: Partial<PoolOptions> = {}, variable: UrlVariable = 'TEST_DATABASE_URL'): Pool | null {
  const settings = postgresUrl(t, variable);
  if (settings === null) return null;
  const pool = createPool({ ...optionsFrom(settings), ...overrides });
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeClose.set(pool, cleanups);
  t.after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await pool.close();
  });
  return pool;
}

/** A table name no other test (or earlier run) uses. */
export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Creates a table for this test, dropped before `pool` (from realPool) closes. `columns` is trusted SQL from the test. */
export async function scratchTable(pool: Pool, columns: string): Promise<string> {
  const name = uniqueName('wire_test');
  await pool.query(`CREATE TABLE ${name} (${columns})`);
  beforeClose.get(pool)?.push(() => pool.query(`DROP TABLE IF EXISTS ${name}`));
  return name;
}

/** Polls `check` once per 50 ms until it returns true; fails after `attempts`. */
export async function eventually(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`never happened: ${what}`);
}

/**
 * A TCP relay listening on `listenHost`, port 0, to the server: the same server reached under an
 * address its certificate does not name. Null when `listenHost` cannot be bound here.
 */
export async function relay(t: TestContext, listenHost: string, target: { host: string; port: number }): Promise<number | null> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectTcp(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, listenHost, () => resolve(true));
  });
  if (!bound) return null;
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}
