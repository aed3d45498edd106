// Conformance of the feed: storage order, resuming from any position with nothing lost or repeated,
// the sender filter moving the position past other senders, erased messages absent, and positions
// the store never made refused. Messages stored in one call share one commit, whose inner order a
// backend may choose: the tests that check order store one message per call. Delivery may lag,
// so the tests follow the feed until what they expect has come (followUntil), then check all of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeedPositionError, type Store } from '../../../src/store/store.ts';
import { followUntil, ids, message, openFor, roomy, type OpenStore } from './conformance-support.ts';

async function storeOneByOne(store: Store, names: readonly string[], from?: string): Promise<void> {
  for (const name of names) await store.sink.insertMany([message(name, from === undefined ? {} : { from })]);
}

async function start(store: Store): Promise<string> {
  const page = await store.reader.feed({ after: null, from: null, limit: 10 }, roomy());
  assert.deepEqual(page.items, [], 'a null position asks for no messages');
  return page.position;
}

export function feedConformance(open: OpenStore): void {
  test('the feed delivers messages in storage order and resumes after any item with nothing lost or repeated', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    await storeOneByOne(store, ['before']);
    const origin = await start(store);
    // Ids that sort against their storage order: the feed follows storage, not ids.
    const names = ['m5', 'm1', 'm4', 'm2', 'm6', 'm3'];
    await storeOneByOne(store, names);

    const walked = await followUntil(store, origin, names, { limit: 2 });
    // A start may also bring messages stored just before it (PostgreSQL: those of transactions its
    // horizon had not passed yet), first; never one stored after it twice or out of order.
    assert.deepEqual(ids(walked.items).filter((id) => id !== 'before'), names);
    assert.ok(ids(walked.items).indexOf('before') <= 0, 'anything stored before the start comes first');
    const again = await store.reader.feed({ after: walked.position, from: null, limit: 10 }, roomy());
    assert.deepEqual(again.items, [], 'nothing is repeated');

    const third = walked.items.find((item) => item.message.message_id === 'm4');
    assert.ok(third !== undefined);
    const resumed = await followUntil(store, third.position, names.slice(3));
    assert.deepEqual(ids(resumed.items), names.slice(3), 'an item position resumes right after that item');

    await storeOneByOne(store, ['m7']);
    assert.deepEqual(ids((await followUntil(store, walked.position, ['m7'])).items), ['m7']);
  });

  test('a batch stored in one call arrives whole, each message once', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const origin = await start(store);
    await store.sink.insertMany(['b', 'c', 'a', 'c'].map((name) => message(name)));
    const walked = await followUntil(store, origin, ['a', 'b', 'c'], { limit: 1 });
    assert.deepEqual(ids(walked.items).sort(), ['a', 'b', 'c']);
  });

  test('with from, the feed holds only that sender, and its position moves past everyone else', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const origin = await start(store);
    const wanted = '+15550000002';
    for (let n = 0; n < 6; n++) await storeOneByOne(store, [`x${n}`], n % 3 === 0 ? wanted : '+15550000001');
    const filtered = await followUntil(store, origin, ['x0', 'x3'], { from: wanted });
    assert.deepEqual(ids(filtered.items), ['x0', 'x3']);
    assert.ok(filtered.items.every((item) => item.message.from === wanted));

    // From where the filtered feed stopped, what it passed (x0 to x3) is behind: unfiltered, only
    // what comes after x3 follows.
    await storeOneByOne(store, ['later']);
    const rest = ids((await followUntil(store, filtered.position, ['later'])).items);
    assert.equal(rest.at(-1), 'later');
    assert.ok(rest.every((id) => ['x4', 'x5', 'later'].includes(id)), JSON.stringify(rest));
  });

  test('erased messages are not delivered', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const origin = await start(store);
    await storeOneByOne(store, ['kept-1', 'erased', 'kept-2']);
    assert.equal(await store.eraser.eraseMessage('erased'), 1);
    assert.deepEqual(ids((await followUntil(store, origin, ['kept-1', 'kept-2'])).items), ['kept-1', 'kept-2']);
  });

  test('a position this store never returned is refused with FeedPositionError', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    await storeOneByOne(store, ['one']);
    const genuine = await start(store);
    const foreign = ['', 'not a position', 'AAAA', '%%%', genuine + '=', `${genuine}A`, 'MjAyNS0wMS0xNVQxMDowMDowMC4wMDAwMDAwMDBab25l'];
    for (const after of foreign) {
      await assert.rejects(store.reader.feed({ after, from: null, limit: 10 }, roomy()), FeedPositionError, JSON.stringify(after));
    }
  });
}
