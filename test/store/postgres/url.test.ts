import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDatabaseUrl } from '../../../src/store/postgres/wire/url.ts';

test('a full URL gives every setting, percent-decoded', () => {
  const parsed = parseDatabaseUrl('postgresql://app%40x:p%40ss%3Aw%2Fd@db.internal:6543/my%20db?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=ingest&connect_timeout=5&options=-c%20statement_timeout%3D5s');
  assert.deepEqual(parsed, {
    ok: true,
    value: {
      host: 'db.internal',
      port: 6543,
      user: 'app@x',
      password: 'p@ss:w/d',
      database: 'my db',
      tls: { mode: 'verify-full', caFile: '/etc/ca.pem' },
      applicationName: 'ingest',
      connectTimeoutMs: 5000,
      parameters: { options: '-c statement_timeout=5s' },
    },
  });
});

test('defaults: port 5432, database named after the user, no password, sslmode verify-full with the default CAs', () => {
  assert.deepEqual(parseDatabaseUrl('postgres://app@db'), {
    ok: true,
    value: { host: 'db', port: 5432, user: 'app', password: null, database: 'app', tls: { mode: 'verify-full', caFile: null }, applicationName: null, connectTimeoutMs: null, parameters: {} },
  });
});

test('sslmode disable and require; sslrootcert=system means the default CAs', () => {
  const tls = (url: string) => {
    const parsed = parseDatabaseUrl(url);
    return parsed.ok ? parsed.value.tls : parsed.error;
  };
  assert.deepEqual(tls('postgres://u@h/d?sslmode=disable'), { mode: 'disable' });
  assert.deepEqual(tls('postgres://u@h/d?sslmode=require'), { mode: 'require' });
  assert.deepEqual(tls('postgres://u@h/d?sslrootcert=system'), { mode: 'verify-full', caFile: null });
  assert.equal(tls('postgres://u@h/d?sslmode=prefer'), 'sslmode must be one of disable, require, verify-full');
  assert.equal(tls('postgres://u@h/d?sslmode=verify-ca'), 'sslmode must be one of disable, require, verify-full');
  assert.equal(tls('postgres://u@h/d?sslmode=require&sslrootcert=/ca.pem'), 'sslrootcert is only used with sslmode=verify-full');
});

test('host names may hold underscores, as container service names do', () => {
  const parsed = parseDatabaseUrl('postgres://u@db_primary-1/d');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.host, 'db_primary-1');
});

test('IPv6 literals in brackets', () => {
  const parsed = parseDatabaseUrl('postgres://u@[::1]:5433/d?sslmode=disable');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.host, '::1');
  assert.equal(parsed.value.port, 5433);
});

test('a password given apart (a _FILE twin) replaces the one in the URL', () => {
  const parsed = parseDatabaseUrl('postgres://u:inurl@h/d', { password: 'from-file' });
  assert.ok(parsed.ok);
  assert.equal(parsed.value.password, 'from-file');
});

const SECRET = 's3cr%C3%A9t-PASSWORD';
const refusals: [string, string][] = [
  ['mysql://u:PW@h/d', 'must start with postgres:// or postgresql://'],
  ['postgres:///d', 'a host is required (Unix sockets are not supported)'],
  [`postgres://u:${SECRET}@/d`, 'is not a valid URL'],
  [`postgres://u:${SECRET}@h1,h2/d`, 'the host must be one name, IPv4 address or bracketed IPv6 address'],
  [`postgres://u:${SECRET}@h:0/d`, 'the port must be from 1 to 65535'],
  [`postgres://u:${SECRET}@h:99999/d`, 'is not a valid URL'],
  [`postgres://:${SECRET}@h/d`, 'a user is required'],
  ['postgres://u:%E0%A4%A@h/d', 'the password is not valid percent-encoding'],
  [`postgres://u:${SECRET}@h/a/b`, 'the database name must be one path segment'],
  [`postgres://u:${SECRET}@h/d?sslmode=disable&sslmode=require`, 'parameter "sslmode" is given twice'],
  [`postgres://u:${SECRET}@h/d?host=other`, 'unsupported parameter "host"; accepted: sslmode, sslrootcert, application_name, connect_timeout, options'],
  [`postgres://u:${SECRET}@h/d?${SECRET}=1`, 'unsupported parameter a query parameter; accepted: sslmode, sslrootcert, application_name, connect_timeout, options'],
  [`postgres://u:${SECRET}@h/d?connect_timeout=0`, 'connect_timeout must be a whole number of seconds from 1 to 3600'],
  [`postgres://u:${SECRET}@h/d#frag`, 'must not have a #fragment'],
];
for (const [url, error] of refusals) {
  test(`parseDatabaseUrl refuses ${url.replace(SECRET, '<password>')} naming the problem, not the password`, () => {
    const parsed = parseDatabaseUrl(url);
    assert.deepEqual(parsed, { ok: false, error });
    assert.ok(!JSON.stringify(parsed).includes('cr'), 'no piece of the password');
  });
}
