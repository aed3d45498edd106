// Erasure through the API: who may erase (ADMIN_TOKENS, never a read token), what is erased (one
// message by its id, percent-encoded; every message of one sender), and that everything derived
// stays exact afterwards: /stats with its ten busiest senders, totals, search, cursors. An erased id
// redelivered is acknowledged and never stored again, across a restart too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { getJson, idsOf, message, nextLink, postAll, postWebhook, startService, storedRows, type Service } from '../support/service.ts';

const ADMIN = 'admin-token-aaaaaaaaaaaaaaaaaaaaaaaa';
const READER = 'read-token-bbbbbbbbbbbbbbbbbbbbbbbbb';
const TEXT = 'erase-me-secret-text';
const PHONE = '+447700900123';

const erase = (service: Service, target: string, token: string | null = ADMIN) =>
  fetch(`${service.url}/messages${target}`, { method: 'DELETE', headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
const read = (service: Service, path: string) => fetch(`${service.url}${path}`, { headers: { Authorization: `Bearer ${READER}` } });
const readJson = async (service: Service, path: string) => {
  const response = await read(service, path);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Parameters<typeof idsOf>[0] };
};

test('without ADMIN_TOKENS erasure is disabled: 403, and nothing is erased', async (t) => {
  const service = await startService(t);
  await postAll(service, [message('kept-1')]);
  for (const target of ['/kept-1', `?from=${encodeURIComponent('+919876543210')}`]) {
    const response = await erase(service, target, null);
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { detail: 'erasure is disabled: ADMIN_TOKENS is not set' });
  }
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['kept-1']);
});

test('erasure needs an admin token: none, a wrong one and a read token get 401; the admin token erases', async (t) => {
  const service = await startService(t, { env: { ADMIN_TOKENS: ADMIN, READ_TOKENS: READER } });
  await postAll(service, [message('target-1')]);
  for (const token of [null, 'admin-token-wrong-wrong-wrong-wrong', READER]) {
    const response = await erase(service, '/target-1', token);
    assert.equal(response.status, 401, String(token));
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
  assert.equal((await storedRows(service)).length, 1);
  const response = await erase(service, '/target-1');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { deleted: 1 });
  assert.deepEqual(await storedRows(service), []);
});

test('an id holding a slash is erased through its percent-encoding; an unknown id erases nothing and answers 0', async (t) => {
  const service = await startService(t, { env: { ADMIN_TOKENS: ADMIN } });
  await postAll(service, [message('a/b c', { text: TEXT }), message('a'), message('b c')]);
  const slash = await erase(service, `/${encodeURIComponent('a/b c')}`);
  assert.deepEqual([slash.status, await slash.json()], [200, { deleted: 1 }]);
  const unknown = await erase(service, '/never-stored');
  assert.deepEqual([unknown.status, await unknown.json()], [200, { deleted: 0 }]);
  const bad = await erase(service, '/%E0%A4%A');
  assert.equal(bad.status, 422);
  assert.deepEqual((await storedRows(service)).map((row) => row.message_id), ['a', 'b c']);
});

test('erasing one sender removes all their messages, and /stats, totals, search and cursors are exact afterwards', async (t) => {
  const service = await startService(t, { env: { ADMIN_TOKENS: ADMIN, READ_TOKENS: READER } });
  // Twelve senders: sender k has 13 - k messages, and the busiest (PHONE) has 20, all holding TEXT.
  const senders = Array.from({ length: 12 }, (_, k) => `+9100000000${String(k).padStart(2, '0')}`);
  const messages = [
    ...Array.from({ length: 20 }, (_, n) => message(`p-${n}`, { from: PHONE, ts: `2025-01-15T10:00:${String(n).padStart(2, '0')}Z`, text: `${TEXT} ${n}` })),
    ...senders.flatMap((from, k) => Array.from({ length: 13 - k }, (_, n) => message(`s${k}-${n}`, { from, ts: `2025-01-16T10:${String(k).padStart(2, '0')}:${String(n).padStart(2, '0')}Z` }))),
  ];
  await postAll(service, messages);
  // A cursor taken before the erasure, in the middle of the erased sender's messages.
  const firstPage = await readJson(service, '/messages?limit=5');
  const cursor = nextLink(firstPage.headers);
  assert.ok(cursor);

  const response = await erase(service, `?from=${encodeURIComponent(PHONE)}`);
  assert.deepEqual([response.status, await response.json()], [200, { deleted: 20 }]);

  const stats = await readJson(service, '/stats');
  const remaining = senders.reduce((sum, _, k) => sum + 13 - k, 0);
  assert.deepEqual(stats.body, {
    total_messages: remaining,
    senders_count: 12,
    // The eleventh busiest before took the place the erased sender left.
    messages_per_sender: senders.slice(0, 10).map((from, k) => ({ from, count: 13 - k })),
    first_message_ts: '2025-01-16T10:00:00Z',
    last_message_ts: '2025-01-16T10:11:01Z',
  });
  const search = await readJson(service, `/messages?q=${TEXT}`);
  assert.deepEqual([search.body.total, idsOf(search.body)], [0, []]);
  const listing = await readJson(service, '/messages?limit=100');
  assert.equal(listing.body.total, remaining);
  assert.ok(!idsOf(listing.body).some((id) => id.startsWith('p-')));
  // The old cursor still works: it continues after a position, erased or not.
  const afterCursor = await readJson(service, cursor);
  assert.equal(afterCursor.status, 200);
  assert.equal(idsOf(afterCursor.body)[0], 's0-0');

  // The trace: a line and a counter, neither holding the text or the phone number.
  const line = await service.waitForLog((entry) => entry.method === 'DELETE' && entry.status === 200);
  assert.equal(line.erasure, 'sender');
  assert.equal(line.deleted, 20);
  const logs = JSON.stringify(service.logs);
  assert.ok(!logs.includes(TEXT) && !logs.includes(PHONE.slice(1)));
  const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  assert.equal(valueOf(metrics, 'messages_erased_total', { reason: 'sender' }), 20);
});

test('an erased id redelivered is acknowledged 200 and not stored again, also after a restart', async (t) => {
  const first = await startService(t, { env: { ADMIN_TOKENS: ADMIN } });
  await postAll(first, [message('redelivered', { text: TEXT })]);
  assert.deepEqual(await (await erase(first, '/redelivered')).json(), { deleted: 1 });
  // Erased before it ever arrived: refused too.
  assert.deepEqual(await (await erase(first, '/early')).json(), { deleted: 0 });
  for (const id of ['redelivered', 'early']) {
    const again = await postWebhook(first, message(id, { text: TEXT }), { headers: { 'X-Request-ID': `again-${id}` } });
    assert.deepEqual([again.status, again.body], [200, { status: 'ok' }]);
    const line = await first.waitForLog((entry) => entry.client_request_id === `again-${id}`);
    assert.equal(line.result, 'erased');
  }
  assert.deepEqual(await storedRows(first), []);
  first.child.kill('SIGTERM');
  await first.exited;

  const second = await startService(t, { dir: first.dir, env: { ADMIN_TOKENS: ADMIN } });
  assert.equal((await postWebhook(second, message('redelivered', { text: TEXT }))).status, 200);
  assert.deepEqual(await storedRows(second), []);
  const stats = await getJson(second, '/stats');
  assert.equal(stats.body.total_messages, 0);
  const metrics = parseExposition(await (await fetch(`${second.url}/metrics`)).text());
  assert.equal(valueOf(metrics, 'webhook_requests_total', { source: 'webhook', result: 'erased' }), 1);
  assert.equal(valueOf(metrics, 'tombstones'), 2);
});
