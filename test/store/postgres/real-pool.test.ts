// The pool against a real PostgreSQL 15 (skipped without TEST_DATABASE_URL): a terminated session
// replaced, concurrency within the pool size, connections returned clean, and a clean close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { createPool } from '../../../src/store/postgres/wire/pool.ts';
import { eventually, optionsFrom, postgresUrl, realPool, scratchTable, uniqueName } from '../../support/postgres.ts';

test('after pg_terminate_backend ends our idle session, the next query succeeds on a new connection', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  const pool = realPool(t, { size: 1 });
  const other = await connect(optionsFrom(settings));
  t.after(() => other.close());
  if (pool === null) return;
  const pid = (await pool.query('SELECT pg_backend_pid()')).rows[0]?.[0] ?? null;
  assert.ok(pid !== null);
  // The timeout argument makes it wait until the backend is gone (PostgreSQL 14+).
  assert.deepEqual((await other.query('SELECT pg_terminate_backend($1::int, 5000)', [pid])).rows, [['t']]);
  await eventually(async () => pool.stats().open === 0, 'the pool noticed the terminated session');
  const after = (await pool.query('SELECT pg_backend_pid()')).rows[0]?.[0];
  assert.ok(after !== undefined && after !== pid);
});

test('50 queries at once on a pool of 4 all succeed, on at most 4 sessions', async (t) => {
  const pool = realPool(t, { size: 4 });
  if (pool === null) return;
  const results = await Promise.all(Array.from({ length: 50 }, (_, index) => pool.query('SELECT $1::int * 2, pg_backend_pid(), pg_sleep(0.01)', [String(index)])));
  assert.deepEqual(results.map((result) => result.rows[0]?.[0]), Array.from({ length: 50 }, (_, index) => String(index * 2)));
  const sessions = new Set(results.map((result) => result.rows[0]?.[1]));
  assert.ok(sessions.size >= 1 && sessions.size <= 4, String(sessions.size));
  const stats = pool.stats();
  assert.ok(stats.open <= 4);
  assert.equal(stats.busy, 0);
  assert.equal(stats.waiting, 0);
});

test('withConnection handing back an open transaction gets it rolled back: its writes never land', async (t) => {
  const pool = realPool(t, { size: 1 });
  if (pool === null) return;
  const table = await scratchTable(pool, 'id int');
  await pool.withConnection(async (connection) => {
    await connection.query('BEGIN');
    await connection.query(`INSERT INTO ${table} VALUES (1)`);
  });
  assert.deepEqual((await pool.query(`SELECT count(*) FROM ${table}`)).rows, [['0']]);
});

test('close() ends every session with Terminate: none is left on the server', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  const applicationName = uniqueName('wire_close');
  const pool = createPool({ ...optionsFrom(settings, { applicationName }), size: 3 });
  const observer = await connect(optionsFrom(settings));
  t.after(() => observer.close());
  await Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(0.05)')));
  const count = async () => Number((await observer.query('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows[0]?.[0]);
  assert.ok((await count()) >= 1);
  await pool.close();
  assert.deepEqual(pool.stats(), { size: 3, open: 0, idle: 0, busy: 0, opening: 0, waiting: 0, failedAttempts: 0 });
  await eventually(async () => (await count()) === 0, 'the server ended every session');
  await assert.rejects(pool.query('SELECT 1'), /pool is closed/);
});
