// Conformance of writes and erasure: each message stored exactly once, one answer per message in
// order, erasure by message and by sender, tombstones answering 'erased', counters exact after all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../../src/store/store.ts';
import { message, openFor, roomy, type OpenStore } from './conformance-support.ts';
import { query } from './reference-listing.ts';

async function listedIds(store: Store, from: string | null = null): Promise<string[]> {
  const page = await store.reader.listMessages(query({ limit: 100, from }), roomy());
  return page.messages.map((listed) => listed.message_id);
}

export function writeConformance(open: OpenStore): void {
  test('repeats within one call, across calls and across concurrent calls are each stored once', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    assert.deepEqual(await store.sink.insertMany([message('b'), message('a'), message('b')]), ['created', 'created', 'duplicate']);
    assert.deepEqual(await store.sink.insertMany([message('a'), message('c')]), ['duplicate', 'created']);

    const concurrent = await Promise.all(Array.from({ length: 40 }, (_, n) => store.sink.insertMany([message(`m-${n % 10}`), message('a')])));
    const created = concurrent.flat().filter((result) => result === 'created').length;
    assert.equal(created, 10, 'each of the ten new ids is created exactly once');
    assert.equal(concurrent.flat().length - created, 70);

    assert.deepEqual(await listedIds(store), ['a', 'b', 'c', ...Array.from({ length: 10 }, (_, n) => `m-${n}`)]);
    const stats = await store.reader.stats(roomy());
    assert.equal(stats.total_messages, 13);
    assert.equal(stats.senders_count, 1);
  });

  test('a stored message is listed exactly as it was received, null text included', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const received = [
      message('plain'),
      message('nullable', { text: null, ts: '2025-01-15T10:00:00.5Z' }),
      message('unicode ☃ 😀', { text: 'zażółć\t"quoted"\\ 😀', ts: '2025-01-15T10:00:00.123456789Z', to: '+1' }),
    ];
    await store.sink.insertMany(received);
    const page = await store.reader.listMessages(query(), roomy());
    // In order of instant: 10:00:00, 10:00:00.123456789, 10:00:00.5.
    assert.deepEqual(page.messages, [received[0], received[2], received[1]]);
  });

  test('erasing a message deletes it, answers 1 then 0, and its re-delivery is answered erased and not stored', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    await store.sink.insertMany([message('keep'), message('gone', { from: '+15550000002' })]);
    assert.equal(await store.eraser.eraseMessage('gone'), 1);
    assert.equal(await store.eraser.eraseMessage('gone'), 0);
    assert.deepEqual(await store.sink.insertMany([message('gone', { from: '+15550000002' }), message('new')]), ['erased', 'created']);
    assert.deepEqual(await listedIds(store), ['keep', 'new']);
    const stats = await store.reader.stats(roomy());
    assert.deepEqual([stats.total_messages, stats.senders_count], [2, 1]);
    assert.deepEqual(stats.messages_per_sender, [{ from: '+15550000001', count: 2 }]);
  });

  test('an id erased before it arrives is never stored, and repeats of it in one call are all erased', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    assert.equal(await store.eraser.eraseMessage('early'), 0);
    assert.deepEqual(await store.sink.insertMany([message('early'), message('other'), message('early')]), ['erased', 'created', 'erased']);
    assert.deepEqual(await listedIds(store), ['other']);
    assert.equal((await store.reader.stats(roomy())).total_messages, 1);
  });

  test('erasing a sender deletes all and only its messages, each tombstoned, and the sender leaves the stats', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const sender = '+15550000007';
    await store.sink.insertMany([
      ...Array.from({ length: 7 }, (_, n) => message(`s-${n}`, { from: sender })),
      message('other-1'),
      message('other-2', { from: '+15550000003' }),
    ]);
    assert.equal(await store.eraser.eraseSender(sender), 7);
    assert.equal(await store.eraser.eraseSender(sender), 0);
    assert.deepEqual(await listedIds(store), ['other-1', 'other-2']);
    assert.deepEqual(await listedIds(store, sender), []);
    assert.deepEqual(await store.sink.insertMany([message('s-3', { from: sender })]), ['erased']);

    const stats = await store.reader.stats(roomy());
    assert.equal(stats.total_messages, 2);
    assert.equal(stats.senders_count, 2);
    assert.deepEqual(stats.messages_per_sender.map((entry) => entry.from).sort(), ['+15550000001', '+15550000003']);
    const page = await store.reader.listMessages(query({ from: sender }), roomy());
    assert.equal(page.total, 0);
  });
}
