// Several replicas of the service on ONE PostgreSQL schema, as a deployment runs them behind a load
// balancer: the same messages raced to two replicas are stored once; a replica killed with -9 under
// load loses no acknowledged message and the survivor goes on; a stream on one replica follows what
// another stores and resumes on it; an erasure on one is seen by the other, tombstone included.
//
// PostgreSQL only (SQLite is one file, one writer): they run in the PostgreSQL pass of `npm test`
// (scripts/test-postgres.ts, TEST_BACKEND=postgres). In the SQLite pass they skip, pointing there;
// without TEST_DATABASE_URL they skip, or fail under REQUIRE_POSTGRES=1 (support/postgres.ts).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { testBackend } from '../support/backend.ts';
import { eventually, postgresUrl } from '../support/postgres.ts';
import { getJson, message, postWebhook, startService, storedRows, walk, type Message, type Service } from '../support/service.ts';
import { openStream, type SseClient } from '../support/sse.ts';
import { tempDir } from '../support/temp-dir.ts';

const ADMIN = 'admin-token-replicas-aaaaaaaaaaaaaaaa';
/** Polls of 50 ms (a minute) before a condition that waits on other processes is declared never met: a bound, not a claim about speed. */
const PATIENCE = 1_200;

/** False (the test returns) when this run cannot put two replicas on one PostgreSQL schema. */
function onPostgres(t: TestContext): boolean {
  if (postgresUrl(t) === null) return false;
  if (testBackend === 'postgres') return true;
  t.skip('replicas share one PostgreSQL schema: this runs in the PostgreSQL pass (TEST_BACKEND=postgres, scripts/test-postgres.ts)');
  return false;
}

/** `count` replicas started together on one schema (the folder names it: support/service-database.ts). */
async function startReplicas(t: TestContext, count: number, env: Record<string, string> = {}): Promise<Service[]> {
  const dir = tempDir(t);
  return Promise.all(Array.from({ length: count }, () => startService(t, { dir, env })));
}

const pad = (n: number) => String(n).padStart(3, '0');
const idsOf = (sent: readonly Message[]) => sent.map((one) => one.message_id);
const streamed = (stream: SseClient) => stream.events.filter((event) => event.event === 'message').map((event) => (JSON.parse(event.data) as Message).message_id);
const storedIds = async (service: Service) => (await storedRows(service)).map((row) => row.message_id);
const sortedIds = (ids: Iterable<string>) => [...ids].sort();

/** Every id /messages lists on `service`, walked through its Link headers, sorted; asserts the total. */
async function listedIds(service: Service, total: number): Promise<string[]> {
  const first = await getJson(service, '/messages?limit=100');
  assert.equal(first.body.total, total, `${service.url} /messages total`);
  return sortedIds((await walk(service, '/messages?limit=100')).pages.flat());
}

async function totalMessages(service: Service): Promise<number | undefined> {
  const stats = await getJson(service, '/stats');
  assert.equal(stats.status, 200);
  return stats.body.total_messages;
}

/** Runs `work` over `items` with at most `width` at once. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** The `result` each replica logged per X-Request-ID (the message id), once it has logged them all. */
async function loggedResults(service: Service, ids: readonly string[]): Promise<Map<string, unknown>> {
  const wanted = new Set(ids);
  const lines = () => service.logs.filter((line) => line.path === '/webhook' && wanted.has(String(line.client_request_id)));
  await eventually(async () => lines().length >= ids.length, `${service.url} logged every request`, PATIENCE);
  return new Map(lines().map((line) => [String(line.client_request_id), line.result]));
}

test('the same messages posted to two replicas at once are all answered 200 and stored once; each replica lists and counts them all', async (t) => {
  if (!onPostgres(t)) return;
  const [a, b] = (await startReplicas(t, 2)) as [Service, Service];
  const raced = Array.from({ length: 400 }, (_, n) => message(`race-${pad(n)}`, { from: `+1415555${pad(n % 37)}`, text: `raced ${n}` }));
  const onlyB = Array.from({ length: 10 }, (_, n) => message(`only-b-${pad(n)}`));
  const statuses: number[] = [];
  // 100 messages in flight, each sent to both replicas at the same moment.
  await inParallel(raced, 100, async (one) => {
    const headers = { 'X-Request-ID': one.message_id };
    const replies = await Promise.all([postWebhook(a, one, { headers }), postWebhook(b, one, { headers })]);
    for (const reply of replies) statuses.push(reply.status);
  });
  for (const one of onlyB) statuses.push((await postWebhook(b, one, { headers: { 'X-Request-ID': one.message_id } })).status);
  assert.deepEqual(statuses.filter((status) => status !== 200), [], 'every request answered 200');

  const all = [...raced, ...onlyB];
  const stored = await storedIds(a);
  assert.equal(stored.length, all.length, 'one row per distinct id');
  assert.deepEqual(sortedIds(stored), sortedIds(idsOf(all)));
  // Exactly one replica stored each raced id; the other answered it as a duplicate.
  const [byA, byB] = await Promise.all([loggedResults(a, idsOf(raced)), loggedResults(b, idsOf(all))]);
  for (const id of idsOf(raced)) assert.deepEqual(sortedIds([String(byA.get(id)), String(byB.get(id))]), ['created', 'duplicate'], id);
  // B stored some itself (its wins of the race, and its own ten): A's listing below shows them too.
  assert.ok(idsOf(all).filter((id) => byB.get(id) === 'created').length >= onlyB.length);

  for (const replica of [a, b]) {
    assert.equal(await totalMessages(replica), all.length, `${replica.url} /stats`);
    assert.deepEqual(await listedIds(replica, all.length), sortedIds(idsOf(all)), `${replica.url} lists every message, whichever replica stored it`);
  }
});

test('a replica killed with -9 under load loses no acknowledged message; the survivor stays ready, takes the retries, and the restarted replica sees everything', async (t) => {
  if (!onPostgres(t)) return;
  const [a, b] = (await startReplicas(t, 2)) as [Service, Service];
  // Even indexes to A, odd to B, 80 at once. B is killed at its 100th 200: at most 180 of its 300
  // requests have started by then, so later ones fail for certain, and A still has work.
  const sent = Array.from({ length: 600 }, (_, n) => message(`load-${pad(n)}`, { text: `load ${n}` }));
  const acknowledged = new Set<string>();
  const failedOnB: Message[] = [];
  const otherAnswers: string[] = [];
  let answeredByB = 0;
  let killed = false;
  let answeredByAAfterKill = 0;
  await inParallel(sent, 80, async (one, index) => {
    const replica = index % 2 === 0 ? a : b;
    try {
      const reply = await postWebhook(replica, one);
      if (reply.status !== 200) {
        otherAnswers.push(`${one.message_id}: ${reply.status}`);
        return;
      }
      acknowledged.add(one.message_id);
      if (replica === a && killed) answeredByAAfterKill++;
      if (replica === b && ++answeredByB === 100) {
        killed = true;
        b.child.kill('SIGKILL');
      }
    } catch (error) {
      // A connection refused or cut by the kill; A's requests must never fail.
      if (replica === a) throw error;
      failedOnB.push(one);
    }
  });
  assert.equal(await b.exited, 'SIGKILL');
  assert.deepEqual(otherAnswers, [], 'every answer was a 200');
  assert.ok(failedOnB.length > 0, 'requests to B failed after the kill');
  assert.ok(answeredByAAfterKill > 0, 'A answered 200 after the kill');
  assert.equal(acknowledged.size + failedOnB.length, sent.length);

  // Every acknowledged message is stored, once; a failed one may or may not be (B may have
  // committed it and died before answering).
  const stored = await storedIds(a);
  assert.equal(new Set(stored).size, stored.length);
  const storedSet = new Set(stored);
  assert.deepEqual([...acknowledged].filter((id) => !storedSet.has(id)), [], 'no acknowledged message lost');
  const sentIds = new Set(idsOf(sent));
  assert.deepEqual(stored.filter((id) => !sentIds.has(id)), []);
  assert.equal(await totalMessages(a), stored.length, '/stats is exact after the kill');

  const ready = await getJson(a, '/health/ready');
  assert.deepEqual([ready.status, ready.body], [200, { status: 'ready' }]);
  for (const one of failedOnB) assert.equal((await postWebhook(a, one)).status, 200, `retry of ${one.message_id} on A`);
  assert.deepEqual(sortedIds(await storedIds(a)), sortedIds(sentIds), 'every message stored once after the retries');
  assert.equal(await totalMessages(a), sent.length);

  const restarted = await startService(t, { dir: b.dir });
  const readyAgain = await getJson(restarted, '/health/ready');
  assert.deepEqual([readyAgain.status, readyAgain.body], [200, { status: 'ready' }]);
  assert.equal(await totalMessages(restarted), sent.length);
  assert.deepEqual(await listedIds(restarted, sent.length), sortedIds(sentIds));
  assert.equal((await postWebhook(restarted, message('after-restart'))).status, 200);
  assert.equal(await totalMessages(a), sent.length + 1, 'A counts what the restarted replica stores');
});

/** Waits until `stream` has delivered the message `id`; then returns every message id it delivered. */
async function streamedThrough(stream: SseClient, id: string): Promise<string[]> {
  await eventually(async () => streamed(stream).includes(id), `the stream delivered ${id}`, PATIENCE);
  return streamed(stream);
}

async function postInOrder(sent: readonly Message[], replicaOf: (index: number) => Service): Promise<void> {
  for (const [index, one] of sent.entries()) assert.equal((await postWebhook(replicaOf(index), one)).status, 200, one.message_id);
}

test('a stream on one replica delivers what another stores, in storage order, none twice; it resumes on the other replica with exactly what was missed', async (t) => {
  if (!onPostgres(t)) return;
  const [a, b] = (await startReplicas(t, 2)) as [Service, Service];
  const onA = await openStream(a, '/messages/stream');
  const onB = await openStream(b, '/messages/stream');
  t.after(() => [onA, onB].forEach((stream) => stream.close()));
  assert.deepEqual([onA.status, onB.status], [200, 200]);

  // Posted one after another to B: storage order is the order sent.
  const toB = Array.from({ length: 20 }, (_, n) => message(`seq-b-${pad(n)}`));
  await postInOrder(toB, () => b);
  assert.deepEqual(await streamedThrough(onA, toB.at(-1)!.message_id), idsOf(toB));

  // A burst to both at once has no order of its own: both replicas' streams deliver one and the same.
  const burst = Array.from({ length: 60 }, (_, n) => message(`burst-${pad(n)}`));
  await inParallel(burst, 30, async (one, index) => assert.equal((await postWebhook(index % 2 === 0 ? a : b, one)).status, 200));
  const end = message('burst-end');
  assert.equal((await postWebhook(b, end)).status, 200);
  const seenOnA = await streamedThrough(onA, end.message_id);
  const seenOnB = await streamedThrough(onB, end.message_id);
  assert.deepEqual(seenOnA.slice(toB.length, -1).sort(), idsOf(burst), 'the burst, each message once');
  assert.deepEqual(seenOnA, [...idsOf(toB), ...seenOnA.slice(toB.length, -1), end.message_id]);
  assert.deepEqual(seenOnA, seenOnB, 'the same order on both replicas');

  // A's subscriber leaves; messages are stored on both meanwhile; it comes back on B.
  const resumeFrom = onA.lastEventId();
  assert.ok(resumeFrom);
  onA.close();
  const missed = Array.from({ length: 10 }, (_, n) => message(`missed-${pad(n)}`));
  await postInOrder(missed, (index) => (index % 2 === 0 ? b : a));
  const resumed = await openStream(b, '/messages/stream', { 'Last-Event-ID': resumeFrom });
  t.after(() => resumed.close());
  assert.equal(resumed.status, 200);
  const live = message('live-after-resume');
  assert.equal((await postWebhook(a, live)).status, 200);
  assert.deepEqual(await streamedThrough(resumed, live.message_id), [...idsOf(missed), live.message_id]);
});

const erase = (service: Service, id: string) =>
  fetch(`${service.url}/messages/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { Authorization: `Bearer ${ADMIN}` } });

test('an erasure on one replica is seen by the other: gone from /messages on both, and a redelivery to the other is acknowledged but not stored', async (t) => {
  if (!onPostgres(t)) return;
  const [a, b] = (await startReplicas(t, 2, { ADMIN_TOKENS: ADMIN })) as [Service, Service];
  const sent = ['keep-1', 'erase-on-a', 'keep-2', 'erase-on-b'].map((id) => message(id));
  await postInOrder(sent, (index) => (index % 2 === 0 ? a : b));
  for (const replica of [a, b]) assert.deepEqual(await listedIds(replica, 4), sortedIds(idsOf(sent)));

  for (const [eraser, other, id, kept] of [
    [a, b, 'erase-on-a', ['erase-on-b', 'keep-1', 'keep-2']],
    [b, a, 'erase-on-b', ['keep-1', 'keep-2']],
  ] as const) {
    const response = await erase(eraser, id);
    assert.deepEqual([response.status, await response.json()], [200, { deleted: 1 }], `DELETE ${id}`);
    for (const replica of [a, b]) {
      assert.deepEqual(await listedIds(replica, kept.length), kept, `${id} gone from ${replica.url}`);
      assert.equal(await totalMessages(replica), kept.length);
    }
    // The other replica reads the tombstone the eraser left: 200, and nothing stored.
    const again = await postWebhook(other, message(id), { headers: { 'X-Request-ID': `again-${id}` } });
    assert.deepEqual([again.status, again.body], [200, { status: 'ok' }]);
    assert.equal((await other.waitForLog((line) => line.client_request_id === `again-${id}`)).result, 'erased');
    assert.deepEqual(await storedIds(other), kept);
  }
});

test('an id erased on one replica while another stores it at the same moment ends up erased, never stored', async (t) => {
  if (!onPostgres(t)) return;
  const [a, b] = (await startReplicas(t, 2, { ADMIN_TOKENS: ADMIN })) as [Service, Service];
  const raced = Array.from({ length: 50 }, (_, n) => message(`erase-race-${pad(n)}`));
  await inParallel(raced, 25, async (one) => {
    const [posted, erased] = await Promise.all([postWebhook(b, one), erase(a, one.message_id)]);
    assert.equal(posted.status, 200);
    assert.equal(erased.status, 200);
  });
  assert.deepEqual(await storedIds(a), [], 'whichever came first, the id is not stored');
  assert.equal(await totalMessages(b), 0);
  for (const one of raced) {
    const again = await postWebhook(b, one, { headers: { 'X-Request-ID': `again-${one.message_id}` } });
    assert.equal(again.status, 200);
    assert.equal((await b.waitForLog((line) => line.client_request_id === `again-${one.message_id}`)).result, 'erased');
  }
  assert.deepEqual(await storedIds(a), []);
});
