// Storage faults, through the real service: a trigger created in its database (from a second
// connection, as an operator or a corrupted schema could) makes the database itself fail the write,
// so the writer, the batch writer and the app meet a real SQLite or PostgreSQL error, not a stand-in.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createPool } from '../../src/store/postgres/wire/pool.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { optionsFrom } from '../support/postgres.ts';
import { message, postWebhook, startService, storedRows, type Service } from '../support/service.ts';

const SECRET_TEXT = 'secret detail: /var/lib/app.db SELECT * FROM messages';
/** The code a log line gives for a database error: SQLite's result code, or a SQLSTATE. */
const ERROR_CODE = { sqlite: /^SQLITE_\d+$/, postgres: /^[0-9A-Z]{5}$/ } as const;

/** Runs each statement on the service's database, from a connection of the test's own. */
async function execOn(service: Service, statements: readonly string[]): Promise<void> {
  if (service.database.postgres === null) {
    const db = new DatabaseSync(service.dbPath);
    try {
      for (const sql of statements) db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const pool = createPool({ ...optionsFrom(service.database.postgres), size: 1 });
  try {
    for (const sql of statements) await pool.query(sql);
  } finally {
    await pool.close();
  }
}

/**
 * Whenever the message `messageId` is about to be inserted, a fault named `name`: `refuse` fails
 * that row with a constraint error (SQLite's RAISE(ABORT), SQLSTATE 23514), `abandon` fails its
 * whole transaction (RAISE(ROLLBACK), an error that is no row's fault), `hold_up` keeps the writer
 * busy for a while: a slow disk, in effect. Every error message is SECRET_TEXT.
 */
async function faultOnInsert(service: Service, name: string, messageId: string, fault: 'refuse' | 'abandon' | 'hold_up'): Promise<void> {
  if (service.backend === 'sqlite') {
    const statement = {
      refuse: `SELECT RAISE(ABORT, '${SECRET_TEXT}')`,
      abandon: `SELECT RAISE(ROLLBACK, '${SECRET_TEXT}')`,
      hold_up: 'SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) SELECT i FROM n)',
    }[fault];
    return execOn(service, [`CREATE TRIGGER ${name} BEFORE INSERT ON messages WHEN NEW.message_id = '${messageId}' BEGIN ${statement}; END`]);
  }
  const statement = {
    refuse: `RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '${SECRET_TEXT}'`,
    abandon: `RAISE EXCEPTION '${SECRET_TEXT}'`,
    hold_up: 'PERFORM pg_sleep(2)',
  }[fault];
  await execOn(service, [
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${statement}; RETURN NEW; END $$`,
    `CREATE TRIGGER ${name} BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.message_id = '${messageId}') EXECUTE FUNCTION ${name}()`,
  ]);
}

const dropFault = (service: Service, name: string) =>
  execOn(service, [service.backend === 'sqlite' ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON messages`]);

const scrape = async (service: Service) => parseExposition(await (await fetch(`${service.url}/metrics`)).text());

test('a message the database refuses is a generic 500 whose error text reaches neither client nor log, and its neighbours are stored', async (t) => {
  const service = await startService(t);
  await faultOnInsert(service, 'refuse_boom', 'boom-1', 'refuse');
  const [boom, neighbour] = await Promise.all([
    postWebhook(service, message('boom-1'), { headers: { 'X-Request-ID': 'boom-1' } }),
    postWebhook(service, message('neighbour-1')),
  ]);
  assert.equal(boom.status, 500);
  assert.deepEqual(boom.body, { detail: 'internal error' });
  assert.equal(neighbour.status, 200);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['neighbour-1']);

  const line = await service.waitForLog((entry) => entry.client_request_id === 'boom-1');
  assert.equal(boom.headers.get('x-request-id'), line.request_id);
  // The kind of failure and the database's code for it (a constraint), never its text.
  assert.equal(line.level, 'ERROR');
  assert.equal(line.status, 500);
  assert.equal(line.result, 'error');
  assert.equal(line.error, 'MessageWriteError');
  assert.match(String(line.code), ERROR_CODE[service.backend]);
  assert.equal(service.logs.filter((entry) => entry.client_request_id === 'boom-1').length, 1);
  assert.ok(!JSON.stringify(service.logs).includes('secret detail'));
  assert.ok(!service.stderr().includes('secret detail'));
  const exposition = await scrape(service);
  assert.equal(valueOf(exposition, 'webhook_requests_total', { source: 'webhook', result: 'error' }), 1);
  assert.equal(valueOf(exposition, 'http_requests_total', { method: 'POST', path: '/webhook', status: '500' }), 1);
  // Refused alone: the batch itself committed.
  assert.equal(valueOf(exposition, 'write_batches_failed_total'), 0);
  assert.deepEqual(service.logs.filter((entry) => String(entry.msg).startsWith('a write batch failed')), [], 'no batch failed');
});

test('a batch whose transaction the database abandons is answered 503 with Retry-After, stores nothing and is counted as failed', async (t) => {
  const service = await startService(t);
  await faultOnInsert(service, 'abandon_batch', 'rollback-1', 'abandon');
  const reply = await postWebhook(service, message('rollback-1'), { headers: { 'X-Request-ID': 'rollback-1' } });
  assert.equal(reply.status, 503);
  assert.equal(reply.headers.get('retry-after'), '1');
  assert.deepEqual(reply.body, { detail: 'service unavailable, retry later' });
  assert.deepEqual(await storedRows(service), []);

  const line = await service.waitForLog((entry) => entry.client_request_id === 'rollback-1');
  assert.equal(line.result, 'unavailable');
  assert.equal(line.reason, 'commit_failed');
  assert.ok(!JSON.stringify(service.logs).includes('secret detail'));
  // Counted once, however often it is scraped.
  for (let scrapes = 0; scrapes < 2; scrapes++) {
    const exposition = await scrape(service);
    assert.equal(valueOf(exposition, 'write_batches_failed_total'), 1);
    assert.equal(valueOf(exposition, 'webhook_requests_total', { source: 'webhook', result: 'unavailable' }), 1);
  }

  // The fault gone, the same message goes through: the 503 was safe to retry.
  await dropFault(service, 'abandon_batch');
  assert.equal((await postWebhook(service, message('rollback-1'))).status, 200);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['rollback-1']);

  const failure = await service.waitForLog((entry) => entry.msg === 'a write batch failed and was rolled back');
  assert.match(String(failure.code), ERROR_CODE[service.backend]);
  // PostgreSQL's line also says whether the commit may have happened unheard: not here, it failed before.
  if (service.backend === 'postgres') assert.equal(failure.outcome_unknown, false);
});

test('while the writer is held up, waiting writes show in write_queue_depth and all commit after', async (t) => {
  const service = await startService(t);
  // The wait is for the writer, not a timer.
  await faultOnInsert(service, 'slow_write', 'slow-1', 'hold_up');
  const slow = postWebhook(service, message('slow-1'));
  const queued = Array.from({ length: 5 }, (_, n) => postWebhook(service, message(`queued-${n}`)));
  let depth = 0;
  for (let scrapes = 0; scrapes < 100 && depth < 6; scrapes++) depth = valueOf(await scrape(service), 'write_queue_depth') as number;
  assert.equal(depth, 6, 'the slow message being written and the five behind it');
  assert.deepEqual((await Promise.all([slow, ...queued])).map((reply) => reply.status), Array(6).fill(200));
  assert.equal(valueOf(await scrape(service), 'write_queue_depth'), 0);
  assert.equal((await storedRows(service)).length, 6);
});

test('a read the database fails is a generic 500: the error text, naming the table, reaches neither client nor log', async (t) => {
  const service = await startService(t);
  assert.equal((await postWebhook(service, message('before-break'))).status, 200);
  // A reader meets the error, and the database's message names the table. (On PostgreSQL the
  // privilege goes, not the name: a table renamed away would be found in public, next on the search_path.)
  await execOn(service, [
    service.backend === 'sqlite' ? 'ALTER TABLE message_totals RENAME TO message_totals_moved' : 'REVOKE SELECT ON message_totals FROM CURRENT_USER',
  ]);
  const reply = await fetch(`${service.url}/stats`, { headers: { 'X-Request-ID': 'stats-broken' } });
  assert.equal(reply.status, 500);
  assert.deepEqual(await reply.json(), { detail: 'internal error' });
  const { ts: _ts, latency_ms: _latency, request_id: requestId, ...line } = await service.waitForLog((entry) => entry.client_request_id === 'stats-broken');
  assert.equal(reply.headers.get('x-request-id'), requestId);
  const everything = JSON.stringify(service.logs) + service.stderr();
  assert.ok(!everything.includes('no such table') && !everything.includes('permission denied') && !everything.includes('message_totals'), everything);

  assert.deepEqual(line, {
    level: 'ERROR',
    client_request_id: 'stats-broken',
    method: 'GET',
    path: '/stats',
    status: 500,
    error: 'ReadFailedError',
    code: service.backend === 'sqlite' ? 'SQLITE_1' : '42501',
    result: 'error',
  });
});
