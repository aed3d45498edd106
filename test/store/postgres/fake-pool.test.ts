// The pool against scripted servers: lost connections replaced, attempts backed off, callers
// bounded, connections returned only in a known state, and a clean close.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { createPool, type Pool, type PoolOptions } from '../../../src/store/postgres/wire/pool.ts';
import { acceptTrust, answerLateThenRecord, echoAnswer, readPipeline, serveQueries, startFakePostgres, type FakeServer, type Pipeline } from '../../support/fake-postgres.ts';
import * as pg from '../../support/pg-messages.ts';

const clientError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof PgClientError, String(error));
  assert.equal(error.code, code);
  return true;
};

function pool(t: TestContext, server: FakeServer | number, options: Partial<PoolOptions> = {}): Pool {
  const base = typeof server === 'number' ? { host: '127.0.0.1', port: server, user: 'u', tls: { mode: 'disable' as const }, requireScram: false } : server.options();
  const created = createPool({ ...base, size: 1, ...options });
  t.after(() => created.close());
  return created;
}

/**
 * Echoes each statement and keeps ReadyForQuery's status as a server would: BEGIN opens a
 * transaction, "fail" marks it failed (as if the caller had swallowed an error), and COMMIT of a
 * failed transaction answers ROLLBACK.
 */
function transactionalServer(log: string[]) {
  let status: 'I' | 'T' | 'E' = 'I';
  return (pipeline: Pipeline) => {
    const answers = pipeline.sqls.map((sql) => {
      log.push(sql);
      let tag = 'SELECT 1';
      if (sql.startsWith('BEGIN')) status = 'T';
      else if (sql === 'fail' && status === 'T') status = 'E';
      else if (sql === 'COMMIT' || sql === 'ROLLBACK') {
        tag = status === 'E' ? 'ROLLBACK' : sql;
        status = 'I';
      }
      return pg.statementAnswer(['v'], [[sql]], tag);
    });
    return Buffer.concat([...answers, pg.readyForQuery(status)]);
  };
}

/** Waits, one event-loop turn at a time (at most a few hundred), until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 500 && !check(); turn++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), what);
}

test('a connection lost mid-query rejects that query; the next query gets a new connection', async (t) => {
  const server = await startFakePostgres(t, async (session, index) => {
    await acceptTrust(session);
    if (index === 0) {
      await readPipeline(session);
      session.socket.destroy();
      return;
    }
    await serveQueries(session, echoAnswer);
  });
  const db = pool(t, server);
  await assert.rejects(db.query('first'), clientError('connection_lost'));
  assert.deepEqual((await db.query('second')).rows, [['second']]);
  assert.equal(server.sessions.length, 2);
});

test('a query timeout in the pool rejects that query; the next one runs on a new connection', async (t) => {
  const server = await startFakePostgres(t, async (session, index) => {
    await acceptTrust(session);
    if (index === 0) {
      await readPipeline(session);
      await session.closed;
      return;
    }
    await serveQueries(session, echoAnswer);
  });
  const db = pool(t, server, { queryTimeoutMs: 40 });
  await assert.rejects(db.query('hangs'), clientError('query_timeout'));
  assert.deepEqual((await db.query('next')).rows, [['next']]);
  assert.equal(server.sessions.length, 2);
  assert.deepEqual(server.cancels, [[4242, 77]]);
});

test('while the database refuses connections queries fail at once; after it comes back, after the backoff, they work', async (t) => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const db = pool(t, port, { backoff: { initialMs: 20, maxMs: 40 } });
  await assert.rejects(db.query('refused'), clientError('connect_failed'));
  assert.equal(db.stats().failedAttempts, 1);
  await assert.rejects(db.query('refused again'), clientError('connect_failed'));
  assert.equal(db.stats().failedAttempts, 2);

  await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, echoAnswer);
  }, port);
  assert.deepEqual((await db.query('back')).rows, [['back']]);
  assert.equal(db.stats().failedAttempts, 0);
});

test('callers wait at most acquireTimeoutMs for a connection, and at most maxWaiting of them wait', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, echoAnswer);
  });
  const db = pool(t, server, { acquireTimeoutMs: 30, maxWaiting: 1 });
  let release = () => {};
  const held = db.withConnection(() => new Promise<void>((resolve) => (release = resolve)));
  await until(() => db.stats().busy === 1, 'the first caller holds the connection');
  const waiting = db.query('waits');
  await assert.rejects(db.query('one too many'), clientError('pool_busy'));
  assert.deepEqual({ ...db.stats(), failedAttempts: 0 }, { size: 1, open: 1, idle: 0, busy: 1, opening: 0, waiting: 1, failedAttempts: 0 });
  await assert.rejects(waiting, clientError('acquire_timeout'));
  release();
  await held;
  assert.deepEqual((await db.query('free again')).rows, [['free again']]);
});

test('a connection handed back inside a transaction is rolled back before anyone else gets it', async (t) => {
  const log: string[] = [];
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, transactionalServer(log));
  });
  const db = pool(t, server);
  await db.withConnection(async (connection) => {
    await connection.query('BEGIN');
    await connection.query('UPDATE');
    assert.equal(connection.transactionStatus, 'in_transaction');
  });
  await db.query('SELECT');
  assert.deepEqual(log, ['BEGIN', 'UPDATE', 'ROLLBACK', 'SELECT']);
  assert.equal(server.sessions.length, 1, 'rolled back, then reused');
});

test('a connection handed back with a query still running is destroyed, not reused', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, (pipeline) => (pipeline.sqls[0] === 'never answered' ? null : echoAnswer(pipeline)));
  });
  const db = pool(t, server);
  let abandoned: Promise<unknown> = Promise.resolve();
  await db.withConnection(async (connection) => {
    abandoned = connection.query('never answered');
  });
  await assert.rejects(abandoned, clientError('connection_closed'));
  assert.deepEqual((await db.query('fresh')).rows, [['fresh']]);
  assert.equal(server.sessions.length, 2);
});

test('transaction() runs BEGIN, the work and COMMIT, and a COMMIT answered ROLLBACK is an error', async (t) => {
  const log: string[] = [];
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, transactionalServer(log));
  });
  const db = pool(t, server);
  assert.equal(await db.transaction(async (connection) => (await connection.query('work')).rows[0]?.[0]), 'work');
  await assert.rejects(db.transaction((connection) => connection.query('fail')), clientError('transaction_rolled_back'));
  await db.transaction(async () => {}, { isolation: 'serializable' });
  assert.deepEqual(log, ['BEGIN', 'work', 'COMMIT', 'BEGIN', 'fail', 'COMMIT', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'COMMIT']);
  await assert.rejects(db.transaction(async () => {}, { isolation: 'read uncommitted; DROP TABLE t' as 'serializable' }), clientError('invalid_options'));
});

test('close() refuses new work and waiting callers, lets the running query finish, then sends Terminate', async (t) => {
  const received: string[] = [];
  const server = await startFakePostgres(t, answerLateThenRecord(received));
  const db = pool(t, server);
  const running = db.query('running');
  await until(() => db.stats().busy === 1, 'the running query holds the connection');
  const waiting = db.query('waiting');
  const closing = db.close();
  await assert.rejects(waiting, clientError('pool_closed'));
  await assert.rejects(db.query('late'), clientError('pool_closed'));
  assert.deepEqual((await running).rows, [['running']]);
  await closing;
  assert.deepEqual(received, ['X']);
  assert.equal(db.stats().open, 0);
});
