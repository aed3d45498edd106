// In-process tests: createApp with a real store (SQLite, or PostgreSQL with TEST_BACKEND=postgres),
// on the entry point's own server (createHttpServer) on 127.0.0.1 port 0, for what only shows
// inside one process: two apps keep apart. (Storage faults are black-box tests, store/store-faults.test.ts.)
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { createConnectionTracker } from '../src/http/connection-tracker.ts';
import { createHttpServer } from '../src/http/http-server.ts';
import { createLogger } from '../src/observability/log.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { serviceDatabase } from './support/service-database.ts';
import { message, postWebhook, SECRET } from './support/service.ts';
import { tempDir } from './support/temp-dir.ts';

async function startInProcess(t: TestContext) {
  const database = await serviceDatabase(t, tempDir(t, 'webhook-app-'));
  const loaded = loadConfig({ WEBHOOK_SECRET: SECRET, DATABASE_URL: database.url });
  assert.ok(loaded.ok);
  const metrics = createMetrics();
  const config = loaded.value;
  assert.equal(config.database.kind, database.backend);
  const store: Store = config.database.kind === 'postgres'
    ? await openPostgresStore({
        database: config.database.url,
        poolSize: config.database.poolSize,
        readPoolSize: config.reads.concurrency,
        queueLimit: config.writeQueueLimit,
        retentionDays: null,
        tombstoneDays: config.tombstoneDays,
        metrics,
      })
    : await openSqliteStore({ path: config.database.path, queueLimit: config.writeQueueLimit, metrics });
  const log = createLogger({ level: 'DEBUG', write: () => {} });
  const connections = createConnectionTracker();
  const { handler } = createApp({ config: loaded.value, store, log, metrics, connections });
  // The server the entry point builds, with every option it sets.
  const server = createHttpServer(handler, { log, onDrop: () => {}, connections, maxConnections: loaded.value.maxConnections });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await new Promise((resolve) => server.close(resolve));
      await store.lifecycle.close();
    })());
  t.after(stop);
  // On PostgreSQL, the schema is dropped once the store on it is closed.
  database.usedBy(stop);
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const url = `http://127.0.0.1:${address.port}`;
  const scrape = async () => parseExposition(await (await fetch(`${url}/metrics`)).text());
  return { url, scrape };
}

test('two apps in one process keep their own metrics', async (t) => {
  const first = await startInProcess(t);
  const second = await startInProcess(t);
  assert.equal((await postWebhook(first, message('only-first'))).status, 200);

  const firstMetrics = await first.scrape();
  const secondMetrics = await second.scrape();
  assert.equal(valueOf(firstMetrics, 'webhook_requests_total', { source: 'webhook', result: 'created' }), 1);
  assert.equal(valueOf(firstMetrics, 'messages_stored'), 1);
  assert.equal(valueOf(secondMetrics, 'webhook_requests_total', { source: 'webhook', result: 'created' }), 0);
  assert.equal(valueOf(secondMetrics, 'messages_stored'), 0);
  assert.equal(valueOf(secondMetrics, 'http_requests_total', { method: 'POST', path: '/webhook', status: '200' }), undefined);
});
