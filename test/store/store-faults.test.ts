// Storage faults, through the real service: a trigger created in its database file (from a second
// connection, as an operator or a corrupted schema could) makes SQLite itself fail the write, so
// the writer thread, the batch writer and the app meet a real SQLite error, not a stand-in.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { message, postWebhook, startService, storedRows, type Service } from '../support/service.ts';

const SECRET_TEXT = 'secret detail: /var/lib/app.db SELECT * FROM messages';

function execOn(service: Service, sql: string): void {
  const db = new DatabaseSync(service.dbPath);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Runs `statement` (SQL) whenever the message `messageId` is about to be inserted: the fault, named `name`. */
function faultOnInsert(service: Service, name: string, messageId: string, statement: string): void {
  execOn(service, `CREATE TRIGGER ${name} BEFORE INSERT ON messages WHEN NEW.message_id = '${messageId}' BEGIN ${statement}; END`);
}

const scrape = async (service: Service) => parseExposition(await (await fetch(`${service.url}/metrics`)).text());

test('a message SQLite refuses is a generic 500 whose error text reaches neither client nor log, and its neighbours are stored', async (t) => {
  const service = await startService(t);
  faultOnInsert(service, 'refuse_boom', 'boom-1', `SELECT RAISE(ABORT, '${SECRET_TEXT}')`);
  const [boom, neighbour] = await Promise.all([
    postWebhook(service, message('boom-1'), { headers: { 'X-Request-ID': 'boom-1' } }),
    postWebhook(service, message('neighbour-1')),
  ]);
  assert.equal(boom.status, 500);
  assert.deepEqual(boom.body, { detail: 'internal error' });
  assert.equal(neighbour.status, 200);
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['neighbour-1']);

  const line = await service.waitForLog((entry) => entry.client_request_id === 'boom-1');
  assert.equal(boom.headers.get('x-request-id'), line.request_id);
  // The kind of failure and SQLite's result code (19: a constraint, which RAISE(ABORT) reports), never its text.
  assert.equal(line.level, 'ERROR');
  assert.equal(line.status, 500);
  assert.equal(line.result, 'error');
  assert.equal(line.error, 'MessageWriteError');
  assert.match(String(line.code), /^SQLITE_\d+$/);
  assert.equal(service.logs.filter((entry) => entry.client_request_id === 'boom-1').length, 1);
  assert.ok(!JSON.stringify(service.logs).includes('secret detail'));
  assert.ok(!service.stderr().includes('secret detail'));
  const exposition = await scrape(service);
  assert.equal(valueOf(exposition, 'webhook_requests_total', { source: 'webhook', result: 'error' }), 1);
  assert.equal(valueOf(exposition, 'http_requests_total', { method: 'POST', path: '/webhook', status: '500' }), 1);
});

test('a batch whose transaction SQLite abandons is answered 503 with Retry-After, stores nothing and is counted as failed', async (t) => {
  const service = await startService(t);
  faultOnInsert(service, 'abandon_batch', 'rollback-1', `SELECT RAISE(ROLLBACK, '${SECRET_TEXT}')`);
  const reply = await postWebhook(service, message('rollback-1'), { headers: { 'X-Request-ID': 'rollback-1' } });
  assert.equal(reply.status, 503);
  assert.equal(reply.headers.get('retry-after'), '1');
  assert.deepEqual(reply.body, { detail: 'service unavailable, retry later' });
  assert.deepEqual(storedRows(service.dbPath), []);

  const line = await service.waitForLog((entry) => entry.client_request_id === 'rollback-1');
  assert.equal(line.result, 'unavailable');
  assert.equal(line.reason, 'commit_failed');
  const failure = await service.waitForLog((entry) => entry.msg === 'a write batch failed and was rolled back');
  assert.match(String(failure.code), /^SQLITE_\d+$/);
  assert.ok(!JSON.stringify(service.logs).includes('secret detail'));
  // Counted once, however often it is scraped.
  for (let scrapes = 0; scrapes < 2; scrapes++) {
    const exposition = await scrape(service);
    assert.equal(valueOf(exposition, 'write_batches_failed_total'), 1);
    assert.equal(valueOf(exposition, 'webhook_requests_total', { source: 'webhook', result: 'unavailable' }), 1);
  }

  // The fault gone, the same message goes through: the 503 was safe to retry.
  execOn(service, 'DROP TRIGGER abandon_batch');
  assert.equal((await postWebhook(service, message('rollback-1'))).status, 200);
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['rollback-1']);
});

test('while the writer is held up, waiting writes show in write_queue_depth and all commit after', async (t) => {
  const service = await startService(t);
  // A trigger that keeps the writer busy for a while (a long recursive count) on one message: a
  // slow disk, in effect. The wait is for the writer, not a timer.
  faultOnInsert(
    service,
    'slow_write',
    'slow-1',
    'SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) SELECT i FROM n)',
  );
  const slow = postWebhook(service, message('slow-1'));
  const queued = Array.from({ length: 5 }, (_, n) => postWebhook(service, message(`queued-${n}`)));
  let depth = 0;
  for (let scrapes = 0; scrapes < 100 && depth < 6; scrapes++) depth = valueOf(await scrape(service), 'write_queue_depth') as number;
  assert.equal(depth, 6, 'the slow message being written and the five behind it');
  assert.deepEqual((await Promise.all([slow, ...queued])).map((reply) => reply.status), Array(6).fill(200));
  assert.equal(valueOf(await scrape(service), 'write_queue_depth'), 0);
  assert.equal(storedRows(service.dbPath).length, 6);
});

test('a read SQLite fails is a generic 500: the error text, naming the table, reaches neither client nor log', async (t) => {
  const service = await startService(t);
  assert.equal((await postWebhook(service, message('before-rename'))).status, 200);
  // A reader thread meets the error, and SQLite's message names the table.
  execOn(service, 'ALTER TABLE message_totals RENAME TO message_totals_moved');
  const reply = await fetch(`${service.url}/stats`, { headers: { 'X-Request-ID': 'stats-broken' } });
  assert.equal(reply.status, 500);
  assert.deepEqual(await reply.json(), { detail: 'internal error' });

  const { ts: _ts, latency_ms: _latency, request_id: requestId, ...line } = await service.waitForLog((entry) => entry.client_request_id === 'stats-broken');
  assert.equal(reply.headers.get('x-request-id'), requestId);
  assert.deepEqual(line, {
    level: 'ERROR',
    client_request_id: 'stats-broken',
    method: 'GET',
    path: '/stats',
    status: 500,
    error: 'ReadFailedError',
    code: 'SQLITE_1',
    result: 'error',
  });
  const everything = JSON.stringify(service.logs) + service.stderr();
  assert.ok(!everything.includes('no such table') && !everything.includes('message_totals'), everything);
});
