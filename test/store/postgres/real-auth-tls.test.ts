// Against a real PostgreSQL 15 (skipped without TEST_DATABASE_URL; see test/support/postgres.ts):
// SCRAM login, TLS in each mode, and refusals the real server produces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQueryTimeout } from '../../../src/store/postgres/wire/classify.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { PgError } from '../../../src/store/postgres/wire/pg-error.ts';
import { eventually, optionsFrom, postgresUrl, relay, uniqueName } from '../../support/postgres.ts';

const sslOfSession = 'SELECT ssl::text, current_user::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

test('SCRAM-SHA-256 login with the right password runs queries, without TLS', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  const connection = await connect(optionsFrom(settings));
  t.after(() => connection.close());
  assert.deepEqual((await connection.query(sslOfSession)).rows, [['false', settings.user]]);
  assert.equal(connection.parameter('server_encoding'), 'UTF8');
  assert.match(connection.parameter('server_version') ?? '', /^15\./);
});

test('a wrong password is refused with SQLSTATE 28P01, and the message does not carry the server text', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  await assert.rejects(connect(optionsFrom(settings, { password: 'wrong password' })), (error: unknown) => {
    assert.ok(error instanceof PgError);
    assert.equal(error.code, '28P01');
    assert.equal(error.message, 'postgres error 28P01');
    assert.match(error.server.message, /password authentication failed/);
    return true;
  });
});

test('verify-full with the cluster CA connects, encrypted, by host name (localhost) and by IP address (127.0.0.1)', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_URL');
  if (settings === null) return;
  assert.equal(settings.tls.mode, 'verify-full');
  assert.equal(settings.host, 'localhost');
  for (const host of ['localhost', '127.0.0.1']) {
    const connection = await connect(optionsFrom(settings, { host }));
    t.after(() => connection.close());
    assert.deepEqual((await connection.query(sslOfSession)).rows, [['true', settings.user]], host);
  }
});

test('verify-full is refused when the address connected to is not named in the certificate', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_URL');
  if (settings === null) return;
  // The certificate names localhost and 127.0.0.1; the same server reached as 127.0.0.2 must fail.
  const port = await relay(t, '127.0.0.2', { host: '127.0.0.1', port: settings.port });
  if (port === null) return t.skip('127.0.0.2 cannot be bound here (Linux routes all of 127/8 to loopback)');
  await assert.rejects(connect(optionsFrom(settings, { host: '127.0.0.2', port })), (error: unknown) => {
    assert.ok(error instanceof PgClientError);
    assert.equal(error.code, 'tls_failed');
    assert.equal((error.cause as { code?: string }).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    return true;
  });
});

test('verify-full without the cluster CA (Node default CAs) is refused: the chain is not trusted', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_URL');
  if (settings === null) return;
  await assert.rejects(connect(optionsFrom(settings, { tls: { mode: 'verify-full', caFile: null } })), (error: unknown) => {
    assert.ok(error instanceof PgClientError && error.code === 'tls_failed');
    return true;
  });
});

test('require encrypts without checking the certificate; a TLS-only role gets in with it', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_ONLY_URL');
  if (settings === null) return;
  assert.equal(settings.tls.mode, 'require');
  const connection = await connect(optionsFrom(settings));
  t.after(() => connection.close());
  assert.deepEqual((await connection.query(sslOfSession)).rows, [['true', settings.user]]);
});

test('sslmode=disable for a role that pg_hba admits over TLS only fails cleanly with the server SQLSTATE', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_ONLY_URL');
  if (settings === null) return;
  await assert.rejects(connect(optionsFrom(settings, { tls: { mode: 'disable' } })), (error: unknown) => {
    assert.ok(error instanceof PgError);
    assert.equal(error.code, '28000');
    return true;
  });
});

test('a query timeout over TLS cancels the statement on the server (CancelRequest over TLS) and destroys the connection', async (t) => {
  const settings = postgresUrl(t, 'TEST_DATABASE_TLS_URL');
  if (settings === null) return;
  const applicationName = uniqueName('wire_cancel');
  const connection = await connect(optionsFrom(settings, { applicationName }));
  const observer = await connect(optionsFrom(settings));
  t.after(() => observer.close());
  await assert.rejects(connection.query('SELECT pg_sleep(60)', [], { timeoutMs: 300 }), isQueryTimeout);
  await connection.closed;
  // pg_sleep would run for a minute; the cancel ends it (and the session, its client gone) long before.
  await eventually(async () => (await observer.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.length === 0, 'the canceled backend is gone');
});
