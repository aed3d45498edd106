// The stream hub on its own, with a feed that counts its reads: subscribers at one position share one
// read, even one begun before the signal they were woken by (the page says so, and they read again
// together); signals close together wake subscribers once per WAKE_INTERVAL_MS; a page's events are
// encoded once, as the wire has them; stop wakes everyone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeedPage, FeedRequest } from '../../src/store/store.ts';
import { createStreamHub, WAKE_INTERVAL_MS } from '../../src/read/stream-hub.ts';

/** A feed of `stored` messages, positions `p<n>`, each read answered on a later turn of the loop. */
function countingFeed(stored: { count: number }) {
  const reads: FeedRequest[] = [];
  const feed = async (request: FeedRequest): Promise<FeedPage> => {
    reads.push(request);
    await new Promise((resolve) => setImmediate(resolve));
    const after = request.after === null ? stored.count : Number(request.after.slice(1));
    const items = [];
    for (let n = after + 1; n <= Math.min(stored.count, after + request.limit); n++) {
      items.push({ position: `p${n}`, message: { message_id: `m${n}`, from: '+15550000001', to: '+15550000002', ts: '2025-01-01T00:00:00Z', text: `t${n}` } });
    }
    return { items, position: `p${after + items.length}` };
  };
  return { reads, feed };
}

test('subscribers at one position share one read, and a read already under way is joined whatever its version', async () => {
  const stored = { count: 3 };
  const { reads, feed } = countingFeed(stored);
  const hub = createStreamHub({ feed, readTimeoutMs: 1000, pollMs: 60_000 });
  const first = hub.read('p0');
  hub.signal(); // a commit while the read is under way
  assert.equal(hub.version(), 1);
  const pages = await Promise.all([first, ...Array.from({ length: 99 }, () => hub.read('p0'))]);
  assert.equal(reads.length, 1, 'a hundred subscribers at one position: one read');
  assert.ok(pages.every((page) => page === pages[0]));
  const page = pages[0]!;
  assert.deepEqual(page.items.map((item) => item.message.message_id), ['m1', 'm2', 'm3']);
  // The read began before the signal: the page says so, so its subscribers read again at once.
  assert.equal(page.version, 0);
  assert.ok(hub.version() > page.version);
  stored.count = 5;
  const next = await Promise.all(Array.from({ length: 100 }, () => hub.read(page.position)));
  assert.equal(reads.length, 2, 'and they stay together: one read for the next page');
  assert.deepEqual(next[0]!.items.map((item) => item.message.message_id), ['m4', 'm5']);
  assert.equal(next[0]!.version, 1);
  hub.stop();
});

test('a page encodes its events once, as the wire has them, with the position after the last event', async () => {
  const { feed } = countingFeed({ count: 2 });
  const hub = createStreamHub({ feed, readTimeoutMs: 1000, pollMs: 60_000 });
  const page = await hub.read('p0');
  const wire = page.unfiltered();
  assert.equal(page.unfiltered(), wire, 'encoded once');
  assert.equal(
    wire.toString(),
    `id: p1\ndata: ${JSON.stringify(page.items[0]!.message)}\n\nid: p2\ndata: ${JSON.stringify(page.items[1]!.message)}\n\n`,
  );
  // A position past the last event (what a filter skipped, on a real store) follows the events.
  const skipped = createStreamHub({
    feed: async () => ({ items: [{ position: 'p1', message: { message_id: 'm1', from: '+1', to: '+2', ts: 't', text: null } }], position: 'p9' }),
    readTimeoutMs: 1000,
    pollMs: 60_000,
  });
  assert.match((await skipped.read('p0')).unfiltered().toString(), /\n\nid: p9\n\n$/);
  hub.stop();
  skipped.stop();
});

test('signals close together wake subscribers once per interval, at once when the last wake-up is older', async () => {
  const hub = createStreamHub({ feed: countingFeed({ count: 0 }).feed, readTimeoutMs: 1000, pollMs: 60_000 });
  const woken = hub.changed(0);
  hub.signal();
  assert.equal(hub.version(), 1, 'the first signal wakes at once');
  await woken;
  for (let n = 0; n < 50; n++) hub.signal();
  assert.equal(hub.version(), 1, 'the ones right after wait for the interval');
  const started = performance.now();
  await hub.changed(1);
  assert.equal(hub.version(), 2, 'and wake once, together');
  assert.ok(performance.now() - started >= WAKE_INTERVAL_MS - 5);
  hub.stop();
});

test('stop wakes every waiting subscriber, cancels a pending wake-up, and the hub stays stopped', async () => {
  const hub = createStreamHub({ feed: countingFeed({ count: 0 }).feed, readTimeoutMs: 1000, pollMs: 60_000 });
  hub.subscribed(1);
  hub.signal();
  hub.signal(); // pending
  const waiting = Array.from({ length: 10 }, () => hub.changed(hub.version()));
  hub.stop();
  await Promise.all(waiting);
  assert.ok(hub.stopped());
  const version = hub.version();
  hub.signal();
  await new Promise((resolve) => setTimeout(resolve, WAKE_INTERVAL_MS * 2));
  assert.equal(hub.version(), version, 'no wake-up after stop');
  await hub.changed(version); // resolves at once: stopped
});
