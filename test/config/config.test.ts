import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, parseDatabaseUrl } from '../../src/config/config.ts';
import { runToExit } from '../support/service.ts';

test('loadConfig applies the documented defaults', () => {
  const result = loadConfig({});
  assert.ok(result.ok);
  assert.deepEqual(result.value, {
    sources: {
      webhook: { secrets: [], maxBodyBytes: 1048576 },
      whatsapp: { appSecrets: [], verifyTokens: [], maxBodyBytes: 3145728 },
      standard: { secrets: [], toleranceSeconds: 300, maxBodyBytes: 1048576 },
    },
    database: { kind: 'sqlite', path: 'data/app.db' },
    logLevel: 'INFO',
    port: 8000,
    host: '0.0.0.0',
    admin: null,
    allowedHosts: null,
    maxBufferedBodyBytes: 33554432,
    maxBufferedAnswerBytes: 33554432,
    writeQueueLimit: 1000,
    maxConnections: 1024,
    reads: { threads: 1, cpuPercent: 25, concurrency: 1, queueLimit: 8, timeoutMs: 2000, maxPageBytes: 1048576 },
    tokens: { read: [], metrics: [], admin: [] },
    streams: { maxStreams: 100, bufferBytes: 262144, heartbeatMs: 15000, pollMs: 250 },
    retentionDays: null,
    tombstoneDays: 8,
  });
});

test('MAX_BUFFERED_BODY_BYTES holds at least one largest body, by default and when set', () => {
  const buffered = (env: Record<string, string>) => {
    const loaded = loadConfig(env);
    return loaded.ok ? loaded.value.maxBufferedBodyBytes : loaded.error;
  };
  assert.equal(buffered({ MAX_BODY_BYTES: '67108864' }), 67108864);
  assert.equal(buffered({ MAX_BODY_BYTES: '1000', MAX_BUFFERED_BODY_BYTES: '1000' }), 1000);
  assert.equal(buffered({ WHATSAPP_APP_SECRETS: 'app-secret-0123456789abcdef' }), 33554432);
  assert.equal(
    buffered({ WHATSAPP_APP_SECRETS: 'app-secret-0123456789abcdef', MAX_BUFFERED_BODY_BYTES: '2000000' }),
    'MAX_BUFFERED_BODY_BYTES: must be an integer from the largest body limit (3145728: MAX_BODY_BYTES, or WHATSAPP_MAX_BODY_BYTES with WhatsApp configured) to 1073741824',
  );
  for (const bad of ['999', '1073741825', 'lots']) {
    assert.equal(
      buffered({ MAX_BODY_BYTES: '1000', MAX_BUFFERED_BODY_BYTES: bad }),
      'MAX_BUFFERED_BODY_BYTES: must be an integer from the largest body limit (1000: MAX_BODY_BYTES, or WHATSAPP_MAX_BODY_BYTES with WhatsApp configured) to 1073741824',
      `rejects ${bad}`,
    );
  }
});

test('loadConfig treats an empty WEBHOOK_SECRET as unset', () => {
  const result = loadConfig({ WEBHOOK_SECRET: '' });
  assert.ok(result.ok);
  assert.deepEqual(result.value.sources.webhook.secrets, []);
});

test('loadConfig accepts log levels case-insensitively, WARNING as WARN', () => {
  for (const [given, expected] of [['debug', 'DEBUG'], ['Info', 'INFO'], ['warning', 'WARN'], ['WARN', 'WARN'], ['error', 'ERROR']]) {
    const result = loadConfig({ LOG_LEVEL: given });
    assert.ok(result.ok, given);
    assert.equal(result.value.logLevel, expected);
  }
});

test('parseDatabaseUrl reads relative, absolute and in-memory SQLite URLs', () => {
  assert.deepEqual(parseDatabaseUrl('sqlite:///data/app.db'), { kind: 'sqlite', path: 'data/app.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:////var/lib/app.db'), { kind: 'sqlite', path: '/var/lib/app.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///:memory:'), { kind: 'sqlite', path: ':memory:' });
});

test('parseDatabaseUrl rejects other schemes and empty paths', () => {
  for (const url of ['postgres://u@h/db', 'sqlite://relative.db', 'sqlite:///', 'mysql:///x', 'app.db', 'sqlite:///x.db?mode=ro']) {
    assert.equal(parseDatabaseUrl(url), null, url);
  }
});

const invalid: [string, Record<string, string>, RegExp][] = [
  ['PORT', { PORT: '70000' }, /PORT: must be an integer from 0 to 65535/],
  ['PORT', { PORT: 'eighty' }, /PORT/],
  ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL: .*DEBUG, INFO, WARN .*ERROR/],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://db/app' }, /DATABASE_URL: .*sqlite:\/\/\/relative\/path.*postgres:\/\/user:password@host/],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://db/app' }, /DATABASE_URL: a user is required; accepted form: postgres:\/\//],
  ['DATABASE_POOL_SIZE', { DATABASE_URL: 'postgres://u@db/app?sslmode=disable', DATABASE_POOL_SIZE: '1' }, /DATABASE_POOL_SIZE: must be an integer from 2 to 100/],
  ['MAX_BODY_BYTES', { MAX_BODY_BYTES: '0' }, /MAX_BODY_BYTES/],
  ['MAX_BUFFERED_BODY_BYTES', { MAX_BUFFERED_BODY_BYTES: '10' }, /MAX_BUFFERED_BODY_BYTES: must be an integer from the largest body limit/],
  ['STANDARD_WEBHOOKS_SECRETS', { STANDARD_WEBHOOKS_SECRETS: 'whsec_c2hvcnQ=' }, /STANDARD_WEBHOOKS_SECRETS: value 1 is not a secret/],
  ['STANDARD_WEBHOOKS_TOLERANCE_S', { STANDARD_WEBHOOKS_TOLERANCE_S: '0' }, /STANDARD_WEBHOOKS_TOLERANCE_S: must be an integer from 1 to 86400/],
  ['READ_TIMEOUT_MS', { READ_TIMEOUT_MS: '10' }, /READ_TIMEOUT_MS: must be an integer from 50 to 60000/],
  ['READ_CPU_PERCENT', { READ_CPU_PERCENT: '2' }, /READ_CPU_PERCENT: must be an integer from 5 to 100/],
  ['READ_TOKENS_FILE', { READ_TOKENS_FILE: '/nonexistent/tokens' }, /READ_TOKENS_FILE: cannot read the file it names/],
  ['WEBHOOK_SECRET_FILE', { WEBHOOK_SECRET_FILE: '/nonexistent/secret' }, /WEBHOOK_SECRET and WEBHOOK_SECRET_FILE are both set/],
  ['WRITE_QUEUE_LIMIT', { WRITE_QUEUE_LIMIT: '0' }, /WRITE_QUEUE_LIMIT: must be an integer from 1 to 1000000/],
  ['MAX_CONNECTIONS', { MAX_CONNECTIONS: '70000' }, /MAX_CONNECTIONS: must be an integer from 1 to 65535/],
];
for (const [variable, env, message] of invalid) {
  test(`startup stops with a non-zero exit and one line naming ${variable} for ${JSON.stringify(env)}`, async () => {
    const { code, stdout, stderr } = await runToExit({ WEBHOOK_SECRET: 's', HOST: '127.0.0.1', ...env });
    assert.notEqual(code, 0);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0] as string);
    assert.equal(entry.level, 'ERROR');
    assert.match(entry.error, message);
  });
}

test('WRITE_QUEUE_LIMIT accepts integers from 1 to 1000000 and nothing else', () => {
  const limit = (value: string) => {
    const loaded = loadConfig({ WRITE_QUEUE_LIMIT: value });
    return loaded.ok ? loaded.value.writeQueueLimit : loaded.error;
  };
  assert.equal(limit('1'), 1);
  assert.equal(limit('1000000'), 1_000_000);
  for (const bad of ['0', '1000001', '-5', '2.5', 'many', '']) {
    assert.equal(limit(bad), 'WRITE_QUEUE_LIMIT: must be an integer from 1 to 1000000', `rejects ${JSON.stringify(bad)}`);
  }
});

test('a PostgreSQL DATABASE_URL selects PostgreSQL; its password may come from DATABASE_PASSWORD_FILE, and no error quotes it', () => {
  const files: Record<string, string> = { '/run/secrets/db': 's3cret-from-file\n' };
  const loaded = loadConfig(
    { DATABASE_URL: 'postgresql://app@db.internal:6432/ingest?sslmode=verify-full', DATABASE_PASSWORD_FILE: '/run/secrets/db' },
    (path) => files[path] ?? '',
  );
  assert.ok(loaded.ok);
  assert.equal(loaded.value.database.kind, 'postgres');
  if (loaded.value.database.kind !== 'postgres') return;
  assert.equal(loaded.value.database.url.password, 's3cret-from-file');
  assert.deepEqual([loaded.value.database.url.host, loaded.value.database.url.port, loaded.value.database.url.database], ['db.internal', 6432, 'ingest']);
  assert.equal(loaded.value.database.poolSize, 4);
  const refused = loadConfig({ DATABASE_URL: 'postgres://app:hunter2-password@db/ingest?sslmode=prefer' });
  assert.ok(!refused.ok);
  assert.doesNotMatch(refused.error, /hunter2/);
});
