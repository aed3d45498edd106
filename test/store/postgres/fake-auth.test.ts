// Startup and authentication against a scripted server: every way a server (or whoever answers in
// its place) can try to get us to trust it, or to hand over the password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { PgError } from '../../../src/store/postgres/wire/pg-error.ts';
import { acceptScram, acceptTrust, sessionStart, startFakePostgres, type FakeSession } from '../../support/fake-postgres.ts';
import * as pg from '../../support/pg-messages.ts';

const refusedWith = (code: string, detail?: string) => (error: unknown) => {
  assert.ok(error instanceof PgClientError, String(error));
  assert.equal(error.code, code);
  if (detail !== undefined) assert.equal(error.detail, detail);
  return true;
};

/** What the client sent after the server's last message, until it closed: nothing is the right answer. */
async function sentAfterwards(session: FakeSession): Promise<string[]> {
  const types: string[] = [];
  for (;;) {
    try {
      types.push((await session.next()).type);
    } catch {
      return types;
    }
  }
}

test('SCRAM-SHA-256 with the right server signature logs in, and the client proof checks out', async (t) => {
  let outcome = '';
  const server = await startFakePostgres(t, async (session) => {
    outcome = await acceptScram(session, 'pencil');
  });
  const connection = await connect(server.options({ password: 'pencil', requireScram: true }));
  t.after(() => connection.destroy());
  assert.equal(outcome, 'proof ok');
  assert.equal(connection.processId, 4242);
  assert.equal(connection.parameter('server_version'), '15.0');
});

test('a wrong SCRAM server signature is refused, even though the server then says OK', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await acceptScram(session, 'pencil', { tamperSignature: true });
    assert.deepEqual(await sentAfterwards(session), [], 'no query after the refusal');
  });
  await assert.rejects(connect(server.options({ password: 'pencil' })), refusedWith('auth_refused', 'the server signature does not match'));
});

test('AuthenticationOk in the middle of SCRAM, before the server proved itself, is refused', async (t) => {
  const server = await startFakePostgres(t, (session) => acceptScram(session, 'pencil', { okBeforeFinal: true }).then(() => {}));
  await assert.rejects(connect(server.options({ password: 'pencil' })), refusedWith('auth_refused', 'the server let us in before proving itself'));
});

test('an iteration count below 4096 from the server is refused before any proof is sent', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await session.next();
    session.send(pg.authSasl('SCRAM-SHA-256'));
    const initial = (await session.next()).body.toString('latin1');
    const nonce = /r=([^,]+)/.exec(initial)?.[1] ?? '';
    session.send(pg.authSaslContinue(`r=${nonce}xyz,s=c2FsdA==,i=1`));
    assert.deepEqual(await sentAfterwards(session), []);
  });
  await assert.rejects(connect(server.options()), refusedWith('auth_refused', 'the iteration count is out of bounds'));
});

test('a server offering only SCRAM-SHA-256-PLUS is refused: we do no channel binding', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await session.next();
    session.send(pg.authSasl('SCRAM-SHA-256-PLUS'));
  });
  await assert.rejects(connect(server.options()), refusedWith('auth_refused', 'the server does not offer SCRAM-SHA-256'));
});

test('a server that lets us in without authentication is refused by default, accepted with requireScram off', async (t) => {
  const server = await startFakePostgres(t, (session) => acceptTrust(session).then(() => {}));
  await assert.rejects(connect(server.options({ requireScram: true })), refusedWith('auth_refused', 'the server let us in without SCRAM, which is required'));
  const connection = await connect(server.options({ requireScram: false }));
  t.after(() => connection.destroy());
  assert.equal(connection.transactionStatus, 'idle');
});

for (const [name, request] of [['cleartext', pg.authCleartext()], ['MD5', pg.authMd5()]] as const) {
  test(`a ${name} password request on a connection without TLS is refused and no password is sent`, async (t) => {
    const server = await startFakePostgres(t, async (session) => {
      await session.next();
      session.send(request);
      assert.deepEqual(await sentAfterwards(session), []);
    });
    await assert.rejects(connect(server.options({ requireScram: false })), refusedWith('auth_refused'));
  });
}

test('a wrong password answer from the server (28P01) rejects with its SQLSTATE, not its text', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await session.next();
    session.send(pg.errorResponse('28P01', { M: 'password authentication failed for user "alice"' }, 'FATAL'));
    session.socket.end();
  });
  await assert.rejects(connect(server.options()), (error: unknown) => {
    assert.ok(error instanceof PgError);
    assert.equal(error.code, '28P01');
    assert.equal(error.severity, 'FATAL');
    assert.ok(!error.message.includes('alice'));
    return true;
  });
});

test('the startup message asks for UTF8 and carries the application name and extra parameters', async (t) => {
  let parameters: Record<string, string> = {};
  const server = await startFakePostgres(t, async (session) => {
    parameters = await acceptTrust(session);
  });
  const connection = await connect(server.options({ applicationName: 'ingest', parameters: { options: '-c statement_timeout=5s' } }));
  t.after(() => connection.destroy());
  assert.deepEqual(parameters, { user: 'u', database: 'd', client_encoding: 'UTF8', application_name: 'ingest', options: '-c statement_timeout=5s' });
  await assert.rejects(connect(server.options({ parameters: { client_encoding: 'LATIN1' } })), refusedWith('invalid_options'));
});

test('a server whose encoding is not UTF8 is refused', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await session.next();
    session.send(pg.authOk(), sessionStart(1, 1, 'SQL_ASCII'));
  });
  await assert.rejects(connect(server.options()), refusedWith('protocol_violation', 'server_encoding is not UTF8'));
});

test('with sslmode require, a server answering N to SSLRequest is refused: no cleartext fallback', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    assert.equal((await session.next()).type, 'ssl');
    session.socket.write('N');
    assert.deepEqual(await sentAfterwards(session), [], 'no startup message in cleartext');
  });
  await assert.rejects(connect(server.options({ tls: { mode: 'require' } })), refusedWith('tls_refused'));
});

test("bytes sent after the 'S' answer, before the TLS handshake, are refused (CVE-2021-23214 style injection)", async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    assert.equal((await session.next()).type, 'ssl');
    session.socket.write(Buffer.concat([Buffer.from('S'), pg.authOk(), sessionStart()]));
    assert.deepEqual(await sentAfterwards(session), []);
  });
  await assert.rejects(connect(server.options({ tls: { mode: 'verify-full', caFile: null } })), refusedWith('protocol_violation', 'data came with the TLS answer, before the handshake'));
});

test('a server that accepts the connection and then says nothing hits the connect timeout', async (t) => {
  const server = await startFakePostgres(t, async (session) => {
    await session.closed;
  });
  await assert.rejects(connect(server.options({ connectTimeoutMs: 50 })), refusedWith('connect_timeout'));
});
