// In-process tests: createApp with a real SQLite store, on an http server on 127.0.0.1 port 0, for
// what the black-box service cannot be made to do (a store that fails) and for app isolation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createMetrics } from '../src/metrics.ts';
import { openSqliteStore } from '../src/sqlite-store.ts';
import type { Store } from '../src/store.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { message, postWebhook, SECRET, storedRows } from './support/service.ts';

async function startInProcess(t: TestContext, breakStore: (store: Store) => void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-app-'));
  const loaded = loadConfig({ WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${join(dir, 'app.db')}` });
  assert.ok(loaded.ok);
  const store = await openSqliteStore({ path: loaded.value.database.path, queueLimit: loaded.value.writeQueueLimit });
  breakStore(store);
  const lines: string[] = [];
  const log = createLogger({ level: 'DEBUG', write: (line) => lines.push(line) });
  const server = createServer(createApp({ config: loaded.value, store, log, metrics: createMetrics() }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const url = `http://127.0.0.1:${address.port}`;
  const scrape = async () => parseExposition(await (await fetch(`${url}/metrics`)).text());
  return { url, dbPath: loaded.value.database.path, lines, scrape };
}

test('an unexpected error answers a generic 500 and its message reaches neither the client nor the log', async (t) => {
  // The real SQLite store, with insert failing the way a broken disk or a bug would.
  const app = await startInProcess(t, (store) => {
    store.insert = async () => {
      throw new Error('secret detail: /var/lib/app.db SELECT * FROM messages');
    };
  });

  const reply = await postWebhook(app, message('boom-1'), { headers: { 'X-Request-ID': 'boom-1' } });
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.body, { detail: 'internal error' });
  assert.equal(reply.headers.get('x-request-id'), 'boom-1');
  assert.deepEqual(storedRows(app.dbPath), []);

  assert.ok(app.lines.every((line) => !line.includes('secret detail') && !line.includes('SELECT')));
  // Exactly one line for the request, at ERROR, naming the kind of failure only.
  assert.equal(app.lines.length, 1);
  const { ts: _ts, latency_ms: _latency, ...line } = JSON.parse(app.lines[0] as string);
  assert.deepEqual(line, {
    level: 'ERROR',
    request_id: 'boom-1',
    method: 'POST',
    path: '/webhook',
    status: 500,
    dup: false,
    message_id: 'boom-1',
    result: 'error',
    error: 'Error',
  });

  const exposition = await app.scrape();
  assert.equal(valueOf(exposition, 'webhook_requests_total', { result: 'error' }), 1);
  assert.equal(valueOf(exposition, 'http_requests_total', { method: 'POST', path: '/webhook', status: '500' }), 1);
});

test('two apps in one process keep their own metrics', async (t) => {
  const first = await startInProcess(t);
  const second = await startInProcess(t);
  assert.equal((await postWebhook(first, message('only-first'))).status, 200);

  const firstMetrics = await first.scrape();
  const secondMetrics = await second.scrape();
  assert.equal(valueOf(firstMetrics, 'webhook_requests_total', { result: 'created' }), 1);
  assert.equal(valueOf(firstMetrics, 'messages_stored'), 1);
  assert.equal(valueOf(secondMetrics, 'webhook_requests_total', { result: 'created' }), 0);
  assert.equal(valueOf(secondMetrics, 'messages_stored'), 0);
  assert.equal(valueOf(secondMetrics, 'http_requests_total', { method: 'POST', path: '/webhook', status: '200' }), undefined);
});
