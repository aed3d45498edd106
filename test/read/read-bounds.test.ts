// Reads are bounded, whatever a reader asks: each has a deadline (READ_TIMEOUT_MS), at most
// READ_CONCURRENCY run with READ_QUEUE_LIMIT waiting, and a page holds at most MAX_PAGE_BYTES.
// Reads run on reader threads, so none of this stops ingestion. Slow reads are made by a preload
// (support/read-fault.ts) that slows the tick SQLite calls every 1,024 rows a scan reads; on
// PostgreSQL, reads that wait are made by a lock the test holds on the messages.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connect } from '../../src/store/postgres/wire/connect.ts';
import { sqliteOnly, testBackend } from '../support/backend.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { optionsFrom } from '../support/postgres.ts';
import { seedMessages } from '../support/seed.ts';
import { getJson, idsOf, message, nextLink, postWebhook, startService, type Service } from '../support/service.ts';
import { tempDir } from '../support/temp-dir.ts';

const READ_FAULT = new URL('../support/read-fault.ts', import.meta.url).pathname;
const ROWS = 6_000;

/** A service on a database of ROWS messages, whose scans take `tickMs` per 1,024 rows (or never end). */
async function slowReads(t: Parameters<typeof startService>[0], env: Record<string, string>, fault: 'slow' | 'stuck' = 'slow') {
  const dir = tempDir(t);
  await seedMessages(t, dir, ROWS, (n) => ({ ...message(`seed-${n}`), text: `text ${n}` }));
  return startService(t, { dir, nodeArgs: ['--import', READ_FAULT], env: { READ_FAULT: fault, READ_FAULT_TICK_MS: '150', ...env } });
}

/**
 * A service whose reads of the messages take a while, until `release`: on SQLite each scan is slowed
 * (slowReads), on PostgreSQL the table is locked by a session of the test until `release`.
 */
async function heldReads(t: TestContext, env: Record<string, string>): Promise<{ service: Service; release: () => Promise<void> }> {
  if (testBackend === 'sqlite') return { service: await slowReads(t, env), release: async () => {} };
  const service = await startService(t, { env });
  assert.ok(service.database.postgres !== null);
  const holder = await connect(optionsFrom(service.database.postgres));
  // Closed, and so the lock released, before the schema is dropped, which the lock would hold up.
  service.database.usedBy(() => holder.close());
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
  return { service, release: async () => void (await holder.query('ROLLBACK')) };
}

const scrape = async (service: Service) => parseExposition(await (await fetch(`${service.url}/metrics`)).text());

test('a read past READ_TIMEOUT_MS answers 503 with Retry-After, the next read works, and ingestion never stopped', async (t) => {
  if (sqliteOnly(t, 'a preload slows the read_tick SQLite calls in its reader threads; a lock on PostgreSQL would also stop the ingestion this test watches')) return;
  const service = await slowReads(t, { READ_TIMEOUT_MS: '300' });
  // A scan of every row: 6 ticks of 150 ms, far past the deadline.
  const slow = getJson(service, '/messages?q=zz');
  const posts = await Promise.all(Array.from({ length: 20 }, (_, n) => postWebhook(service, message(`during-${n}`))));
  assert.deepEqual(posts.map((reply) => reply.status), Array(20).fill(200));
  const refused = await slow;
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(refused.body, { detail: 'service unavailable, retry later' });
  const line = await service.waitForLog((entry) => entry.path === '/messages' && entry.status === 503);
  assert.equal(line.reason, 'read_timeout');

  // The next read, which scans nothing, is answered by the same thread.
  const next = await getJson(service, '/messages?limit=1');
  assert.equal(next.status, 200);
  assert.equal(next.body.total, ROWS + 20);
  const metrics = await scrape(service);
  assert.equal(valueOf(metrics, 'read_refused_total', { reason: 'read_timeout' }), 1);
  assert.equal(valueOf(metrics, 'reader_threads_replaced_total', { reason: 'deadline' }), 0, 'ended by its own deadline');
});

test('a read that no deadline check reaches has its reader thread stopped and replaced, and reads go on', async (t) => {
  if (sqliteOnly(t, 'a preload makes a read in a SQLite reader thread never return, and the thread is replaced (PostgreSQL has no reader threads)')) return;
  const service = await slowReads(t, { READ_TIMEOUT_MS: '200', READ_THREADS: '2', READ_CONCURRENCY: '2' }, 'stuck');
  const stuck = await getJson(service, '/messages?q=zz');
  assert.equal(stuck.status, 503);
  await service.waitForLog((entry) => entry.msg === 'a read outlived its deadline: its reader thread was stopped and replaced');
  assert.equal(valueOf(await scrape(service), 'reader_threads_replaced_total', { reason: 'deadline' }), 1);
  for (let n = 0; n < 4; n++) assert.equal((await getJson(service, '/stats')).status, 200, 'the threads left and the new one answer');
  assert.equal((await postWebhook(service, message('after-stuck'))).status, 200);
});

test('past READ_CONCURRENCY running and READ_QUEUE_LIMIT waiting, a read is refused at once with 503 read_busy', async (t) => {
  const { service, release } = await heldReads(t, { READ_TIMEOUT_MS: '5000', READ_CONCURRENCY: '1', READ_QUEUE_LIMIT: '1' });
  const running = getJson(service, '/messages?q=zz');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const waiting = getJson(service, '/messages?q=zz');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  const refused = await getJson(service, '/stats');
  assert.ok(performance.now() - started < 1000, 'refused without waiting for the reads ahead');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await service.waitForLog((entry) => entry.path === '/stats' && entry.status === 503)).reason, 'read_busy');
  await release();
  assert.deepEqual([(await running).status, (await waiting).status], [200, 200]);
  assert.equal(valueOf(await scrape(service), 'read_refused_total', { reason: 'read_busy' }), 1);
});

test('a page of large texts is cut to MAX_PAGE_BYTES and its Link goes on; following it yields every message once', async (t) => {
  const service = await startService(t, { env: { MAX_PAGE_BYTES: '65536' } });
  // Each text is 4,096 control characters, 24 KiB of JSON escapes: two fit a page of 64 KiB.
  const big = '\u0001'.repeat(4096);
  for (let n = 0; n < 7; n++) assert.equal((await postWebhook(service, message(`big-${n}`, { text: big }))).status, 200);
  const first = await getJson(service, '/messages?limit=100');
  assert.equal(first.status, 200);
  assert.deepEqual(idsOf(first.body), ['big-0', 'big-1']);
  assert.equal(first.body.total, 7);
  const seen = [...idsOf(first.body)];
  for (let link = nextLink(first.headers); link !== null; ) {
    const page = await getJson(service, link);
    assert.ok(Buffer.byteLength(JSON.stringify(page.body.data)) <= 65536);
    seen.push(...idsOf(page.body));
    link = nextLink(page.headers);
  }
  assert.deepEqual(seen, Array.from({ length: 7 }, (_, n) => `big-${n}`));
});
