// Opening, migrating, readiness, shutdown and metrics of the PostgreSQL store on a real server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { SCHEMA_VERSION, SchemaTooNewError } from '../../../src/store/postgres/migrations.ts';
import { DatabaseOpenError, openDatabase } from '../../../src/store/postgres/open-database.ts';
import { openPostgresStore } from '../../../src/store/postgres/postgres-store.ts';
import { connect } from '../../../src/store/postgres/wire/connect.ts';
import { StoreUnavailableError } from '../../../src/store/store.ts';
import { parseExposition, valueOf } from '../../support/exposition.ts';
import { postgresUrl, uniqueName } from '../../support/postgres.ts';
import { postgresHarness, roomy } from '../../support/postgres-store.ts';
import { message } from '../conformance/conformance-support.ts';

test('replicas opening the same empty schema at once migrate it once and both work', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const stores = await Promise.all([harness.open(), harness.open(), harness.open()]);
  assert.deepEqual((await harness.admin.query('SELECT version FROM schema_migrations ORDER BY version')).rows, [[String(SCHEMA_VERSION)]]);
  const keys = await harness.admin.query('SELECT count(*) FROM store_secrets');
  assert.deepEqual(keys.rows, [['1']], 'one tombstone key, shared');
  for (const [n, store] of stores.entries()) assert.deepEqual(await store.sink.insertMany([message(`m-${n}`), message('shared')]), ['created', n === 0 ? 'created' : 'duplicate']);
  await stores[2]?.eraser.eraseMessage('m-0');
  assert.deepEqual(await stores[1]?.sink.insertMany([message('m-0')]), ['erased'], 'a tombstone left by one replica is read by another');
});

test('a schema migrated by a newer build is refused with a clear error, and one without a schema too', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  await (await harness.open()).lifecycle.close();
  await harness.admin.query('INSERT INTO schema_migrations (version) VALUES ($1::int)', [String(SCHEMA_VERSION + 98)]);
  await assert.rejects(harness.open(), (error: unknown) => {
    assert.ok(error instanceof SchemaTooNewError);
    assert.match(error.message, new RegExp(`version ${SCHEMA_VERSION + 98} is newer than this build supports \\(${SCHEMA_VERSION}\\)`));
    return true;
  });

  const nowhere = { ...harness.database, parameters: { options: `-c search_path=${uniqueName('missing')}` } };
  await assert.rejects(openDatabase({ database: nowhere }), (error: unknown) => {
    assert.ok(error instanceof DatabaseOpenError);
    assert.match(error.message, /no schema of the search_path exists/);
    assert.equal(error.code, 'no_schema');
    return true;
  });
});

test('write sessions commit with synchronous_commit on even when the URL turns it off', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const database = { ...harness.database, parameters: { options: `-c search_path=${harness.schema},public -c synchronous_commit=off` } };
  const opened = await openDatabase({ database });
  const session = await connect(opened.connection);
  t.after(() => session.close());
  assert.deepEqual((await session.query('SHOW synchronous_commit')).rows, [['on']]);
});

test('ping answers while the store is open; close commits what is queued, then refuses writes and fails ping', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const store = await harness.open();
  assert.equal(await store.lifecycle.ping(), true);
  const queued = Array.from({ length: 30 }, (_, n) => store.sink.insertMany([message(`q-${n}`)]));
  await store.lifecycle.close();
  assert.deepEqual((await Promise.all(queued)).flat(), Array(30).fill('created'));
  await assert.rejects(store.sink.insertMany([message('late')]), (error: unknown) => error instanceof StoreUnavailableError && error.reason === 'writer_stopped');
  assert.equal(await store.lifecycle.ping(), false);
  assert.deepEqual((await harness.admin.query('SELECT count(*) FROM messages')).rows, [['30']]);
});

test('a store that cannot reach its database does not open, and says why by a code, without the password', async (t) => {
  const settings = postgresUrl(t);
  if (settings === null) return;
  const unreachable = { ...settings, host: '127.0.0.1', port: 1, connectTimeoutMs: 2_000 };
  await assert.rejects(
    openPostgresStore({ database: unreachable, poolSize: 1, readPoolSize: 1, queueLimit: 1, retentionDays: null, tombstoneDays: 1 }),
    (error: unknown) => {
      assert.ok(error instanceof DatabaseOpenError && /^opening the PostgreSQL store failed: /.test(error.message));
      assert.equal(error.code, 'ECONNREFUSED');
      assert.ok(settings.password === null || !error.message.includes(settings.password));
      return true;
    },
  );
  const wrongPassword = { ...settings, password: 'not-the-password' };
  await assert.rejects(
    openPostgresStore({ database: wrongPassword, poolSize: 1, readPoolSize: 1, queueLimit: 1, retentionDays: null, tombstoneDays: 1 }),
    (error: unknown) => {
      assert.ok(error instanceof DatabaseOpenError);
      assert.equal(error.code, '28P01');
      assert.ok(!error.message.includes('not-the-password') && !error.message.includes('authentication'));
      return true;
    },
  );
});

test('metrics: the shared families with their meaning, and the pools, retries and connection errors', async (t) => {
  const harness = await postgresHarness(t);
  if (harness === null) return;
  const metrics = createMetrics();
  const store = await harness.open({ metrics });
  await store.sink.insertMany([message('a'), message('b'), message('c')]);
  await store.eraser.eraseMessage('c');
  await store.reader.stats(roomy());
  const scrape = parseExposition(await metrics.render());
  assert.equal(valueOf(scrape, 'messages_stored'), 2);
  assert.equal(valueOf(scrape, 'tombstones'), 1);
  assert.ok((valueOf(scrape, 'database_size_bytes') ?? 0) > 1_000_000);
  assert.equal(valueOf(scrape, 'messages_erased_total', { reason: 'message' }), 1);
  assert.equal(valueOf(scrape, 'messages_erased_total', { reason: 'retention' }), 0);
  assert.equal(valueOf(scrape, 'write_batch_size_sum'), 3);
  assert.equal(valueOf(scrape, 'write_queue_depth'), 0);
  assert.equal(valueOf(scrape, 'postgres_pool_size', { pool: 'write' }), 2);
  assert.equal(valueOf(scrape, 'postgres_pool_size', { pool: 'read' }), 2);
  assert.equal(valueOf(scrape, 'postgres_pool_waiting', { pool: 'read' }), 0);
  assert.ok((valueOf(scrape, 'postgres_pool_connections', { pool: 'read', state: 'idle' }) ?? 0) >= 1);
  assert.equal(valueOf(scrape, 'postgres_pool_connections', { pool: 'write', state: 'busy' }), 0);
  assert.equal(valueOf(scrape, 'postgres_write_retries_total', { sqlstate_class: '40' }), 0);
  assert.equal(valueOf(scrape, 'postgres_connection_errors_total', { pool: 'read' }), 0);
});

test('options that would make retention erase everything or spin are refused before connecting, by name', async () => {
  const base = { database: { host: '127.0.0.1', port: 1, user: 'u', password: null, database: 'd', tls: { mode: 'disable' as const }, applicationName: null, connectTimeoutMs: null, parameters: {} }, poolSize: 1, readPoolSize: 1, queueLimit: 1 };
  await assert.rejects(openPostgresStore({ ...base, retentionDays: 0, tombstoneDays: 1 }), /retentionDays must be a positive number of days, or null$/);
  await assert.rejects(openPostgresStore({ ...base, retentionDays: null, tombstoneDays: Number.NaN }), /tombstoneDays must be/);
  await assert.rejects(openPostgresStore({ ...base, retentionDays: 1, tombstoneDays: 1, eraseChunkSize: 0 }), /eraseChunkSize must be/);
  await assert.rejects(openPostgresStore({ ...base, retentionDays: 1, tombstoneDays: 1, retentionFirstPassMs: -1 }), /retentionFirstPassMs must be/);
});
