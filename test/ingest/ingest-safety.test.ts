// The proofs the write path owes: an acknowledged message survives kill -9, concurrent duplicates
// are stored and counted once, and a full write queue sheds load with 503 without losing anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { message, postWebhook, startService, storedRows, type Service } from '../support/service.ts';

/** Waits (a bounded number of short polls) until `count` log lines match; returns those lines. */
async function logLines(service: Service, match: (line: Record<string, unknown>) => boolean, count: number) {
  for (let poll = 0; poll < 500 && service.logs.filter(match).length < count; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return service.logs.filter(match);
}

test('every message acknowledged with 200 before a SIGKILL is stored after a restart, once', async (t) => {
  const acknowledged: string[] = [];
  let sent = 0;
  let dir: string | undefined;
  // Three rounds of: stream, kill -9 mid-stream, restart on the same file. Each kill lands while
  // some writes are queued or committing, which is where an early acknowledgement would show.
  for (let round = 0; round < 3; round++) {
    const service = await startService(t, { dir });
    dir = service.dir;
    const target = acknowledged.length + 200;
    let killed = false;
    async function sender(lane: number): Promise<void> {
      for (let n = 0; !killed; n++) {
        const id = `stream-${round}-${lane}-${n}`;
        sent++;
        const reply = await postWebhook(service, message(id)).catch(() => null);
        if (reply?.status === 200) acknowledged.push(id);
        if (acknowledged.length >= target && !killed) {
          killed = true;
          service.child.kill('SIGKILL');
        }
      }
    }
    await Promise.all(Array.from({ length: 32 }, (_, lane) => sender(lane)));
    assert.equal(await service.exited, 'SIGKILL');
  }

  const restarted = await startService(t, { dir });
  const stored = (await storedRows(restarted)).map((row) => row.message_id);
  const storedSet = new Set(stored);
  assert.equal(storedSet.size, stored.length, 'no message is stored twice');
  assert.deepEqual(acknowledged.filter((id) => !storedSet.has(id)), [], 'every acknowledged message survived');
  assert.ok(stored.length <= sent && stored.every((id) => id.startsWith('stream-')), 'nothing stored that was not sent');

  // The restarted service takes new messages and knows the old ones.
  assert.equal((await postWebhook(restarted, message('after-restart'))).status, 200);
  assert.equal((await postWebhook(restarted, message(acknowledged[0] as string))).status, 200);
  assert.equal((await storedRows(restarted)).length, stored.length + 1);
});

test('one message_id posted by 100 concurrent requests among other traffic is stored once and created once', async (t) => {
  const service = await startService(t);
  const posts = [];
  for (let n = 0; n < 100; n++) {
    posts.push(postWebhook(service, message('contended', { text: `attempt ${n}` })));
    posts.push(postWebhook(service, message(`other-${n}`)));
  }
  const replies = await Promise.all(posts);
  assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([200]));
  assert.deepEqual(new Set(replies.map((reply) => JSON.stringify(reply.body))), new Set(['{"status":"ok"}']));

  const rows = await storedRows(service);
  assert.equal(rows.filter((row) => row.message_id === 'contended').length, 1);
  assert.equal(rows.filter((row) => row.message_id.startsWith('other-')).length, 100);

  const lines = await logLines(service, (line) => line.message_id === 'contended', 100);
  assert.equal(lines.length, 100);
  assert.equal(lines.filter((line) => line.result === 'created').length, 1);
  assert.equal(lines.filter((line) => line.result === 'duplicate').length, 99);
  // Counted once everywhere else too: the request counters and the stored statistics.
  const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  assert.equal(valueOf(metrics, 'webhook_requests_total', { source: 'webhook', result: 'created' }), 101);
  assert.equal(valueOf(metrics, 'webhook_requests_total', { source: 'webhook', result: 'duplicate' }), 99);
  const stats = (await (await fetch(`${service.url}/stats`)).json()) as { total_messages: number };
  assert.equal(stats.total_messages, 101);
});

test('a full write queue answers 503 with Retry-After, stores every 200, and the service recovers', async (t) => {
  const service = await startService(t, { env: { WRITE_QUEUE_LIMIT: '1' } });
  const outcomes: { id: string; status: number; retryAfter: string | null; body: unknown }[] = [];
  // With room for one write, a burst of concurrent posts must overflow; a few bursts make sure.
  for (let burst = 0; burst < 5 && !outcomes.some((outcome) => outcome.status === 503); burst++) {
    const ids = Array.from({ length: 100 }, (_, n) => `burst-${burst}-${n}`);
    const replies = await Promise.all(ids.map((id) => postWebhook(service, message(id))));
    replies.forEach((reply, n) =>
      outcomes.push({ id: ids[n] as string, status: reply.status, retryAfter: reply.headers.get('retry-after'), body: reply.body }),
    );
  }
  const refused = outcomes.filter((outcome) => outcome.status === 503);
  const accepted = outcomes.filter((outcome) => outcome.status === 200);
  assert.ok(refused.length > 0, 'some posts were refused');
  assert.equal(refused.length + accepted.length, outcomes.length, 'every answer is 200 or 503');
  for (const outcome of refused) {
    assert.equal(outcome.retryAfter, '1');
    assert.deepEqual(outcome.body, { detail: 'service unavailable, retry later' });
  }

  const stored = new Set((await storedRows(service)).map((row) => row.message_id));
  assert.deepEqual(accepted.filter((outcome) => !stored.has(outcome.id)), [], 'every 200 is stored');
  assert.deepEqual(refused.filter((outcome) => stored.has(outcome.id)), [], 'a 503 stored nothing');
  const refusals = await logLines(service, (line) => line.result === 'unavailable', refused.length);
  assert.equal(refusals.length, refused.length, 'one log line per refusal');
  assert.ok(refusals.every((line) => line.reason === 'queue_full' && line.status === 503));
  // Counted once, however often it is scraped.
  for (let scrapes = 0; scrapes < 2; scrapes++) {
    const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
    assert.equal(valueOf(metrics, 'write_queue_rejected_total'), refused.length);
    assert.equal(valueOf(metrics, 'webhook_requests_total', { source: 'webhook', result: 'unavailable' }), refused.length);
  }

  // Recovery: ready, and the refused messages go through when retried one at a time.
  assert.equal((await fetch(`${service.url}/health/ready`)).status, 200);
  for (const outcome of refused.slice(0, 20)) {
    assert.equal((await postWebhook(service, message(outcome.id))).status, 200);
  }
  const after = new Set((await storedRows(service)).map((row) => row.message_id));
  assert.ok(refused.slice(0, 20).every((outcome) => after.has(outcome.id)));
});
