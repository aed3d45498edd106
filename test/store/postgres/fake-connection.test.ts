// A session against a scripted server: what arrives mid-query or while idle, what a broken server
// sends, timeouts and closing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { PgError, type PgNotice } from '../../../src/store/postgres/wire/pg-error.ts';
import { acceptTrust, answerLateThenRecord, echoAnswer, readPipeline, serveQueries, startFakePostgres } from '../../support/fake-postgres.ts';
import * as pg from '../../support/pg-messages.ts';

const clientError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof PgClientError, String(error));
  assert.equal(error.code, code);
  return true;
};

test('parameters go out as text and nulls; rows come back as text and nulls', async (t) => {
  let seen: (string | null)[][] = [];
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await serveQueries(session, (pipeline) => {
      seen = pipeline.params;
      return Buffer.concat([pg.statementAnswer(['a', 'b'], [['1', null], ['ü', '']], 'SELECT 2'), pg.readyForQuery()]);
    });
  });
  const connection = await connect(server.options());
  t.after(() => connection.destroy());
  const result = await connection.query('SELECT $1, $2, $3', ['x', null, 'é']);
  assert.deepEqual(seen, [['x', null, 'é']]);
  assert.deepEqual(result, { columns: ['a', 'b'], rows: [['1', null], ['ü', '']], command: 'SELECT', rowCount: 2 });
});

test('notices, parameter changes and notifications mid-query and while idle leave the state machine intact', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    session.send(pg.noticeResponse('01000', { M: 'idle notice' }));
    await serveQueries(session, (pipeline) =>
      Buffer.concat([
        pg.parseComplete(),
        pg.noticeResponse('00000'),
        pg.bindComplete(),
        pg.rowDescription('v'),
        pg.parameterStatus('TimeZone', 'Europe/Paris'),
        pg.dataRow(pipeline.sqls[0] ?? ''),
        pg.notification(9, 'jobs', 'payload'),
        pg.dataRow('second'),
        pg.commandComplete('SELECT 2'),
        pg.noticeResponse('01000'),
        pg.readyForQuery(),
        pg.notification(9, 'jobs', 'idle'),
      ]),
    );
  });
  const notices: PgNotice[] = [];
  const payloads: string[] = [];
  const connection = await connect(
    server.options({
      onNotice: (notice) => {
        notices.push(notice);
        throw new Error('a buggy callback');
      },
      onNotification: (notification) => payloads.push(notification.payload),
    }),
  );
  t.after(() => connection.destroy());
  assert.deepEqual((await connection.query('one')).rows, [['one'], ['second']]);
  assert.deepEqual((await connection.query('two')).rows, [['two'], ['second']]);
  assert.deepEqual(notices.map((notice) => notice.code), ['01000', '00000', '01000', '00000', '01000']);
  assert.equal(notices[0]?.server.message, 'idle notice');
  assert.deepEqual(payloads, ['payload', 'idle', 'payload', 'idle']);
  assert.equal(connection.parameter('TimeZone'), 'Europe/Paris');
  assert.ok(connection.isOpen);
});

test('an error in the middle of a pipeline rejects the whole pipeline with the server error; nothing half succeeds', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    const pipeline = await readPipeline(session);
    assert.equal(pipeline?.sqls.length, 3);
    session.send(pg.statementAnswer([], [], 'INSERT 0 1'), pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.errorResponse('23505', { D: 'Key (id)=(7) already exists.' }), pg.readyForQuery());
    await serveQueries(session, echoAnswer);
  });
  const connection = await connect(server.options());
  t.after(() => connection.destroy());
  const statements = [{ sql: 'INSERT 1' }, { sql: 'INSERT 2' }, { sql: 'INSERT 3' }];
  await assert.rejects(connection.pipeline(statements), (error: unknown) => {
    assert.ok(error instanceof PgError);
    assert.equal(error.code, '23505');
    assert.equal(error.statementIndex, 1);
    assert.equal(error.message, 'postgres error 23505');
    return true;
  });
  assert.deepEqual((await connection.query('after')).rows, [['after']], 'the connection is still usable');
});

test('a server that closes mid-query makes the query reject with a connection error at once', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await readPipeline(session);
    session.send(pg.parseComplete(), pg.bindComplete(), pg.rowDescription('v'), pg.dataRow('partial'));
    session.socket.destroy();
  });
  const connection = await connect(server.options());
  await assert.rejects(connection.query('SELECT 1'), clientError('connection_lost'));
  await connection.closed;
  assert.equal(connection.isOpen, false);
  await assert.rejects(connection.query('SELECT 1'), clientError('connection_closed'));
});

test('a FATAL error while idle (the session was terminated) closes the connection with that error', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    session.send(pg.errorResponse('57P01', {}, 'FATAL'));
    session.socket.end();
  });
  const connection = await connect(server.options());
  await connection.closed;
  assert.equal(connection.isOpen, false);
});

test('an oversize message length ends the connection and rejects the query', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await readPipeline(session);
    session.send(pg.parseComplete(), pg.bindComplete(), pg.rowDescription('v'), Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xff]));
    await session.closed;
  });
  const connection = await connect(server.options({ maxMessageBytes: 1024 * 1024 }));
  await assert.rejects(connection.query('SELECT 1'), clientError('message_too_large'));
  await connection.closed;
});

test('a message that makes no sense while idle, or a client_encoding change, ends the connection', async (t) => {
  for (const stray of [pg.dataRow('x'), pg.parameterStatus('client_encoding', 'LATIN1')]) {
    const server = await startFakePostgres(t, async (session) => {
      await acceptTrust(session);
      session.send(stray);
      await session.closed;
    });
    const connection = await connect(server.options());
    await connection.closed;
    await assert.rejects(connection.query('SELECT 1'), clientError('connection_closed'));
  }
});

test('a query timeout rejects with query_timeout, sends a CancelRequest with the key data, and destroys the connection', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await readPipeline(session);
    await session.closed;
  });
  const connection = await connect(server.options());
  await assert.rejects(connection.query('SELECT pg_sleep(60)', [], { timeoutMs: 30 }), clientError('query_timeout'));
  await connection.closed;
  assert.equal(connection.isOpen, false);
  assert.deepEqual(server.cancels, [[4242, 77]]);
});

test('a query that times out while still queued behind another is dropped; the connection carries on', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    const first = await readPipeline(session);
    await new Promise((resolve) => setTimeout(resolve, 100));
    session.send(echoAnswer(first ?? { sqls: [], params: [], executeLimits: [] }));
    await serveQueries(session, echoAnswer);
  });
  const connection = await connect(server.options());
  t.after(() => connection.destroy());
  const slow = connection.query('slow');
  await assert.rejects(connection.query('queued', [], { timeoutMs: 20 }), clientError('query_timeout'));
  assert.deepEqual((await slow).rows, [['slow']]);
  assert.deepEqual((await connection.query('next')).rows, [['next']]);
  assert.deepEqual(server.cancels, []);
});

test('close() lets the running query finish, then sends Terminate and waits for the server to close', async (t) => {
  const received: string[] = [];
  const server = await startFakePostgres(t, answerLateThenRecord(received));
  const connection = await connect(server.options());
  const running = connection.query('running');
  const closing = connection.close();
  await assert.rejects(connection.query('refused'), clientError('connection_closed'));
  assert.deepEqual((await running).rows, [['running']]);
  await closing;
  assert.deepEqual(received, ['X']);
});

test('COPY is refused and the connection ends, since its state is unknown afterwards', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    await readPipeline(session);
    session.send(pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.copyInResponse());
    await session.closed;
  });
  const connection = await connect(server.options());
  await assert.rejects(connection.query('COPY t FROM STDIN'), clientError('unsupported'));
  await connection.closed;
});

test('more rows than maxRows reject the query; Execute asked the server for one more than allowed', async (t) => {
  let limits: number[] = [];
  const server = await startFakePostgres(t, async (session) => {
    await acceptTrust(session);
    limits = (await readPipeline(session))?.executeLimits ?? [];
    session.send(pg.parseComplete(), pg.bindComplete(), pg.rowDescription('n'), pg.dataRow('1'), pg.dataRow('2'), pg.dataRow('3'), pg.portalSuspended(), pg.readyForQuery());
    await serveQueries(session, echoAnswer);
  });
  const connection = await connect(server.options({ maxRows: 2 }));
  t.after(() => connection.destroy());
  await assert.rejects(connection.query('SELECT n'), clientError('result_too_large'));
  assert.deepEqual(limits, [3]);
  assert.deepEqual((await connection.query('after')).rows, [['after']]);
});
