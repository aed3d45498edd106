// Queries against a real PostgreSQL 15 (skipped without TEST_DATABASE_URL): parameters, arrays,
// errors by SQLSTATE, pipelines as one transaction, timeouts, notices and transactions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQueryCanceled, isQueryTimeout, isUniqueViolation } from '../../../src/store/postgres/wire/classify.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { PgError, type PgNotice } from '../../../src/store/postgres/wire/pg-error.ts';
import { textArrayLiteral } from '../../../src/store/postgres/wire/text-array.ts';
import { optionsFrom, postgresUrl, realPool, scratchTable } from '../../support/postgres.ts';

test('text, null, unicode and empty parameters arrive exactly as sent and come back as text', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const unicode = 'zażółć 😀 中文 e\u0301 \u00a0';
  const result = await pool.query('SELECT $1::text AS a, $2::text AS b, $3::text AS c, length($3) AS n, $4::text AS d, $5::int + 1 AS e', ['plain', null, unicode, '', '41']);
  assert.deepEqual(result, { columns: ['a', 'b', 'c', 'n', 'd', 'e'], rows: [['plain', null, unicode, String([...unicode].length), '', '42']], command: 'SELECT', rowCount: 1 });
});

test('a list bound as one text[] literal comes back from unnest element for element', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const values = ['a', 'b"c', 'd\\e', null, 'NULL', '', '{x,y}', ' spaced ', 'ü\n\t', '\\"'];
  const result = await pool.query('SELECT value, ordinality::int FROM unnest($1::text[]) WITH ORDINALITY AS u(value, ordinality) ORDER BY ordinality', [textArrayLiteral(values)]);
  assert.deepEqual(result.rows.map((row) => row[0]), values);
});

test('a unique violation is PgError 23505 with the constraint name kept apart from the message', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const table = await scratchTable(pool, 'id text PRIMARY KEY');
  await pool.query(`INSERT INTO ${table} VALUES ($1)`, ['secret-value']);
  await assert.rejects(pool.query(`INSERT INTO ${table} VALUES ($1)`, ['secret-value']), (error: unknown) => {
    assert.ok(isUniqueViolation(error) && error instanceof PgError);
    assert.equal(error.message, 'postgres error 23505');
    assert.equal(error.server.constraint, `${table}_pkey`);
    assert.match(error.server.detail ?? '', /secret-value/, 'the data is in the server text, which is why it stays out of the message');
    return true;
  });
});

test('a pipeline runs as one transaction: an error in a later statement rolls back the earlier ones', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const table = await scratchTable(pool, 'id int PRIMARY KEY');
  const insert = (id: string) => ({ sql: `INSERT INTO ${table} VALUES ($1)`, params: [id] });
  await assert.rejects(pool.pipeline([insert('1'), insert('2'), insert('1'), insert('3')]), (error: unknown) => {
    assert.ok(error instanceof PgError && error.code === '23505');
    assert.equal(error.statementIndex, 2);
    return true;
  });
  assert.deepEqual((await pool.query(`SELECT count(*) FROM ${table}`)).rows, [['0']]);

  const results = await pool.pipeline([insert('1'), insert('2'), { sql: `SELECT count(*) FROM ${table}` }]);
  assert.deepEqual(results.map((result) => [result.command, result.rowCount]), [['INSERT', 1], ['INSERT', 1], ['SELECT', 1]]);
  assert.deepEqual(results[2]?.rows, [['2']]);
  assert.deepEqual((await pool.query(`SELECT count(*) FROM ${table}`)).rows, [['2']]);
});

test('a deferred constraint failing at the implicit commit fails the pipeline, with no statement index', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const table = await scratchTable(pool, 'id int PRIMARY KEY, parent int');
  await pool.query(`ALTER TABLE ${table} ADD CONSTRAINT fk_parent FOREIGN KEY (parent) REFERENCES ${table} (id) DEFERRABLE INITIALLY DEFERRED`);
  const statements = [{ sql: `INSERT INTO ${table} VALUES (1, 99)` }, { sql: `SELECT count(*) FROM ${table}` }];
  await assert.rejects(pool.pipeline(statements), (error: unknown) => {
    assert.ok(error instanceof PgError && error.code === '23503');
    assert.equal(error.statementIndex, null);
    return true;
  });
  assert.deepEqual((await pool.query(`SELECT count(*) FROM ${table}`)).rows, [['0']]);
});

test('two statements in one SQL string are refused by the server: no stacked queries', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  await assert.rejects(pool.query('SELECT 1; SELECT 2'), (error: unknown) => error instanceof PgError && error.code === '42601');
});

test('statement_timeout set through the startup options cancels a slow statement with 57014', async (t) => {
  const pool = realPool(t, { parameters: { options: '-c statement_timeout=100' } });
  if (pool === null) return;
  assert.deepEqual((await pool.query('SHOW statement_timeout')).rows, [['100ms']]);
  await assert.rejects(pool.query('SELECT pg_sleep(5)'), isQueryCanceled);
  assert.deepEqual((await pool.query('SELECT 1')).rows, [['1']]);
});

test('a client-side query timeout rejects with query_timeout, and the pool carries on with a new connection', async (t) => {
  const pool = realPool(t, { size: 1 });
  if (pool === null) return;
  const before = (await pool.query('SELECT pg_backend_pid()')).rows[0]?.[0];
  await assert.rejects(pool.query('SELECT pg_sleep(30)', [], { timeoutMs: 200 }), isQueryTimeout);
  const after = (await pool.query('SELECT pg_backend_pid()')).rows[0]?.[0];
  assert.notEqual(after, before);
});

test('RAISE NOTICE inside a pipeline reaches onNotice and changes nothing else', async (t) => {
  const notices: PgNotice[] = [];
  const pool = realPool(t, { onNotice: (notice) => notices.push(notice) });
  if (pool === null) return;
  const results = await pool.pipeline([
    { sql: 'SELECT 1' },
    { sql: "DO $$ BEGIN RAISE NOTICE 'first %', 1; RAISE WARNING 'second'; END $$" },
    { sql: 'SELECT $1::text', params: ['after'] },
  ]);
  assert.deepEqual(results.map((result) => result.rows), [[['1']], [], [['after']]]);
  assert.deepEqual(notices.map((notice) => [notice.code, notice.severity, notice.server.message]), [['00000', 'NOTICE', 'first 1'], ['01000', 'WARNING', 'second']]);
});

test('transactionStatus follows BEGIN, an error inside the transaction, and ROLLBACK', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  const connection = await connect(optionsFrom(settings));
  t.after(() => connection.close());
  assert.equal(connection.transactionStatus, 'idle');
  await connection.query('BEGIN');
  assert.equal(connection.transactionStatus, 'in_transaction');
  await assert.rejects(connection.query('SELECT 1/0'), (error: unknown) => error instanceof PgError && error.code === '22012');
  assert.equal(connection.transactionStatus, 'failed');
  await assert.rejects(connection.query('SELECT 1'), (error: unknown) => error instanceof PgError && error.code === '25P02');
  assert.equal((await connection.query('ROLLBACK')).command, 'ROLLBACK');
  assert.equal(connection.transactionStatus, 'idle');
});

test('pool.transaction commits on success, rolls back on a throw, and refuses a COMMIT that rolled back', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  const table = await scratchTable(pool, 'id int PRIMARY KEY');
  await pool.transaction(async (connection) => {
    await connection.query(`INSERT INTO ${table} VALUES (1)`);
    await connection.query(`INSERT INTO ${table} VALUES (2)`);
  });
  await assert.rejects(
    pool.transaction(async (connection) => {
      await connection.query(`INSERT INTO ${table} VALUES (3)`);
      throw new Error('the caller changed its mind');
    }),
    /changed its mind/,
  );
  await assert.rejects(
    pool.transaction(async (connection) => {
      await connection.query(`INSERT INTO ${table} VALUES (4)`);
      await connection.query(`INSERT INTO ${table} VALUES (1)`).catch(() => {});
    }, { isolation: 'serializable' }),
    (error: unknown) => error instanceof PgClientError && error.code === 'transaction_rolled_back',
  );
  assert.deepEqual((await pool.query(`SELECT id FROM ${table} ORDER BY id`)).rows, [['1'], ['2']]);
});

test('maxRows rejects a result with more rows; an empty query gives an empty command', async (t) => {
  const pool = realPool(t, { maxRows: 10 });
  if (pool === null) return;
  assert.equal((await pool.query('SELECT generate_series(1, 10)')).rows.length, 10);
  await assert.rejects(pool.query('SELECT generate_series(1, 11)'), (error: unknown) => error instanceof PgClientError && error.code === 'result_too_large');
  assert.deepEqual(await pool.query(''), { columns: [], rows: [], command: '', rowCount: null });
});

test('the pg_trgm extension the store relies on is installed in the test database', async (t) => {
  const pool = realPool(t);
  if (pool === null) return;
  assert.deepEqual((await pool.query("SELECT extname::text FROM pg_extension WHERE extname = 'pg_trgm'")).rows, [['pg_trgm']]);
  assert.deepEqual((await pool.query("SELECT 'webhook' % 'webhooks'")).rows, [['t']]);
});
