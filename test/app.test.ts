import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { openSqliteStore } from '../src/sqlite-store.ts';
import { message, postWebhook, SECRET } from './support/service.ts';

test('an unexpected error answers a generic 500 and its message reaches neither the client nor the log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = loadConfig({ WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${join(dir, 'app.db')}` });
  assert.ok(loaded.ok);
  // The real SQLite store, with insert failing the way a broken disk or a bug would.
  const store = openSqliteStore({ path: loaded.value.database.path });
  t.after(() => store.close());
  store.insert = async () => {
    throw new Error('secret detail: /var/lib/app.db SELECT * FROM messages');
  };
  const lines: string[] = [];
  const log = createLogger({ level: 'DEBUG', write: (line) => lines.push(line) });
  const server = createServer(createApp({ config: loaded.value, store, log }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');

  const reply = await postWebhook({ url: `http://127.0.0.1:${address.port}` }, message('boom-1'));
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.body, { detail: 'internal error' });
  assert.ok(lines.length >= 1);
  assert.ok(lines.every((line) => !line.includes('secret detail') && !line.includes('SELECT')));
  const requestLine = JSON.parse(lines.at(-1) as string);
  assert.equal(requestLine.level, 'ERROR');
  assert.equal(requestLine.status, 500);
  assert.equal(requestLine.result, 'error');
  assert.equal(requestLine.request_id, reply.headers.get('x-request-id'));
});
