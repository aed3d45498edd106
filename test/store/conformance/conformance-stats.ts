// Conformance of /stats: totals, distinct senders, the ten busiest (count descending, ties by sender
// in byte order), first and last instants, exact on an empty store, with ties at the tenth place,
// and after erasures that move a sender out of the ten.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../../src/model/message.ts';
import type { MessageStats, Store } from '../../../src/store/store.ts';
import { message, openFor, roomy, type OpenStore } from './conformance-support.ts';
import { inListingOrder } from './reference-listing.ts';

/** What stats must answer for `stored`, computed the obvious way. */
export function referenceStats(stored: readonly InboundMessage[]): MessageStats {
  const counts = new Map<string, number>();
  for (const { from } of stored) counts.set(from, (counts.get(from) ?? 0) + 1);
  const ranked = [...counts].sort(([a, countA], [b, countB]) => countB - countA || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const ordered = inListingOrder(stored);
  return {
    total_messages: stored.length,
    senders_count: counts.size,
    messages_per_sender: ranked.slice(0, 10).map(([from, count]) => ({ from, count })),
    first_message_ts: ordered.at(0)?.ts ?? null,
    last_message_ts: ordered.at(-1)?.ts ?? null,
  };
}

/**
 * Twelve senders with ties around the tenth place; '+100...' sorts before '+19' as bytes. The
 * first and last instants are each shared by two texts of one instant, so the id decides.
 */
function dataset(): InboundMessage[] {
  const senders = ['+19', '+100', '+1000', '+12', '+13', '+14', '+15', '+16', '+17', '+18', '+101', '+102'];
  const counts = [9, 7, 7, 5, 4, 4, 3, 2, 2, 2, 2, 1];
  const stored: InboundMessage[] = [];
  senders.forEach((from, s) => {
    for (let n = 0; n < (counts[s] as number); n++) {
      stored.push(message(`${from}-${n}`, { from, ts: `2025-01-${String(10 + (n % 5)).padStart(2, '0')}T08:00:00Z` }));
    }
  });
  stored.push(message('first-b', { ts: '2025-01-01T00:00:00Z' }), message('first-a', { ts: '2025-01-01T00:00:00.000Z' }));
  stored.push(message('last-a', { ts: '2025-02-01T00:00:00.1Z' }), message('last-b', { ts: '2025-02-01T00:00:00.100Z' }));
  return stored;
}

async function assertStats(store: Store, stored: readonly InboundMessage[]): Promise<void> {
  assert.deepEqual(await store.reader.stats(roomy()), referenceStats(stored));
}

export function statsConformance(open: OpenStore): void {
  test('an empty store has no messages, no senders and no instants', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    assert.deepEqual(await store.reader.stats(roomy()), {
      total_messages: 0, senders_count: 0, messages_per_sender: [], first_message_ts: null, last_message_ts: null,
    });
  });

  test('stats count exactly, rank the ten busiest with ties by sender bytes, and find the first and last instants', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const stored = dataset();
    for (let start = 0; start < stored.length; start += 9) await store.sink.insertMany(stored.slice(start, start + 9));
    await assertStats(store, stored);
    const stats = await store.reader.stats(roomy());
    assert.equal(stats.first_message_ts, '2025-01-01T00:00:00.000Z', 'first-a: same instant as first-b, smaller id');
    assert.equal(stats.last_message_ts, '2025-02-01T00:00:00.100Z', 'last-b: same instant as last-a, larger id');
    // Four senders tie at 2 for the ninth and tenth places: '+101' and '+16' come first as bytes.
    assert.deepEqual(stats.messages_per_sender.map((entry) => entry.from), ['+19', '+100', '+1000', '+12', '+13', '+14', '+15550000001', '+15', '+101', '+16']);
  });

  test('after erasures the ten busiest are ranked again: a sender that shrank below the eleventh leaves them', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    let stored = dataset();
    await store.sink.insertMany(stored);
    // '+19' (9 messages, first) down to 1: below every other sender but '+102'.
    for (let n = 1; n < 9; n++) assert.equal(await store.eraser.eraseMessage(`+19-${n}`), 1);
    stored = stored.filter((kept) => !(kept.from === '+19' && kept.message_id !== '+19-0'));
    await assertStats(store, stored);
    const ranked = (await store.reader.stats(roomy())).messages_per_sender.map((entry) => entry.from);
    assert.ok(!ranked.includes('+19') && ranked.includes('+17') && !ranked.includes('+18'), 'the former eleventh takes the tenth place');

    assert.equal(await store.eraser.eraseSender('+100'), 7);
    assert.equal(await store.eraser.eraseMessage('first-a'), 1);
    assert.equal(await store.eraser.eraseMessage('last-b'), 1);
    stored = stored.filter((kept) => kept.from !== '+100' && kept.message_id !== 'first-a' && kept.message_id !== 'last-b');
    await assertStats(store, stored);
  });
}
