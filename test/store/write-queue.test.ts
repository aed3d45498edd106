import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { createWriteQueue, type Settled, type WriteQueue } from '../../src/store/write-queue.ts';

/** A writer whose batches the test completes by hand, so the queue's schedule is observable. */
function manualWriter() {
  const batches: { items: number[]; finish: (outcomes: Settled<string>[] | Error) => void }[] = [];
  const writeBatch = (items: number[]) =>
    new Promise<Settled<string>[]>((resolve, reject) => {
      batches.push({ items, finish: (result) => (result instanceof Error ? reject(result) : resolve(result)) });
    });
  const committed = (items: number[]): Settled<string>[] => items.map((item) => ({ ok: true, value: `stored ${item}` }));
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  /** The batch with this index, once the queue has sent it (within a few event-loop turns). */
  const batch = async (index: number) => {
    for (let turn = 0; turn < 10 && batches.length <= index; turn++) await nextTurn();
    const sent = batches[index];
    assert.ok(sent, `batch ${index} was sent`);
    return sent;
  };
  return { batches, writeBatch, committed, nextTurn, batch };
}

/** One write through pushMany, resolving with its one result. */
const push = async <Result>(queue: WriteQueue<number, Result>, item: number): Promise<Result> => {
  const [result] = await queue.pushMany([item]);
  return result as Result;
};

test('writes that arrive while a batch commits go together as the next batch', async () => {
  const writer = manualWriter();
  const sizes: [number, boolean][] = [];
  const onBatch = (size: number, committed: boolean) => sizes.push([size, committed]);
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 100, maxBatchSize: 100, onBatch });
  const first = push(queue, 1);
  await writer.batch(0);
  const waiting = [push(queue, 2), push(queue, 3), push(queue, 4)];
  await writer.nextTurn();
  assert.deepEqual(writer.batches.map((batch) => batch.items), [[1]], 'one batch at a time');

  writer.batches[0]!.finish(writer.committed([1]));
  assert.equal(await first, 'stored 1');
  assert.equal(writer.batches.length, 2, 'the next batch is sent before the first one is answered');
  (await writer.batch(1)).finish(writer.committed([2, 3, 4]));
  assert.deepEqual(writer.batches.map((batch) => batch.items), [[1], [2, 3, 4]]);
  assert.deepEqual(await Promise.all(waiting), ['stored 2', 'stored 3', 'stored 4']);
  assert.deepEqual(sizes, [[1, true], [3, true]]);
  assert.deepEqual(queue.stats(), { queueDepth: 0, queueLimit: 100, rejectedQueueFull: 0 });
});

test('a batch holds at most maxBatchSize writes; the rest follow in the next batch', async () => {
  const writer = manualWriter();
  const sizes: number[] = [];
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 100, maxBatchSize: 2, onBatch: (size) => sizes.push(size) });
  const all = [1, 2, 3, 4, 5].map((item) => push(queue, item));
  for (let index = 0; index < 3; index++) {
    const batch = await writer.batch(index);
    batch.finish(writer.committed(batch.items));
  }
  assert.deepEqual(await Promise.all(all), [1, 2, 3, 4, 5].map((item) => `stored ${item}`));
  assert.deepEqual(writer.batches.map((batch) => batch.items), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(sizes, [2, 2, 1]);
});

test('a full queue refuses a write at once with queue_full, and takes writes again once drained', async () => {
  const writer = manualWriter();
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 2, maxBatchSize: 1 });
  const accepted = [push(queue, 1), push(queue, 2)];
  const third = push(queue, 3).then(
    () => 'accepted',
    (error: unknown) => (error instanceof StoreUnavailableError && error.reason === 'queue_full' ? 'refused' : 'other'),
  );
  // At once: settled before the next event-loop turn, not left waiting for room.
  const atOnce = await Promise.race([third, new Promise((resolve) => setImmediate(() => resolve('still waiting')))]);
  assert.equal(atOnce, 'refused');
  assert.equal(queue.stats().queueDepth, 2);
  assert.equal(queue.stats().rejectedQueueFull, 1);

  for (let index = 0; index < 2; index++) {
    const batch = await writer.batch(index);
    batch.finish(writer.committed(batch.items));
  }
  assert.deepEqual(await Promise.all(accepted), ['stored 1', 'stored 2']);
  await queue.drained();
  const later = push(queue, 4);
  (await writer.batch(2)).finish(writer.committed([4]));
  assert.equal(await later, 'stored 4');
});

test('a failed batch rejects every write in it; a failed row rejects only its own write', async () => {
  const writer = manualWriter();
  const outcomes: boolean[] = [];
  const onBatch = (_size: number, committed: boolean) => outcomes.push(committed);
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 10, maxBatchSize: 10, onBatch });
  const doomed = [push(queue, 1), push(queue, 2)];
  (await writer.batch(0)).finish(new StoreUnavailableError('commit_failed'));
  for (const write of doomed) {
    await assert.rejects(write, (error) => error instanceof StoreUnavailableError && error.reason === 'commit_failed');
  }

  const mixed = [push(queue, 3), push(queue, 4), push(queue, 5)];
  (await writer.batch(1)).finish([{ ok: true, value: 'stored 3' }, { ok: false, error: new Error('row failed') }, { ok: true, value: 'stored 5' }]);
  assert.equal(await mixed[0], 'stored 3');
  await assert.rejects(mixed[1]!, /row failed/);
  assert.equal(await mixed[2], 'stored 5');
  assert.deepEqual(outcomes, [false, true]);
});

test('drained waits for queued and committing writes', async () => {
  const writer = manualWriter();
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 10, maxBatchSize: 10 });
  const write = push(queue, 1);
  let drained = false;
  const done = queue.drained().then(() => (drained = true));
  const batch = await writer.batch(0);
  assert.equal(drained, false);
  batch.finish(writer.committed([1]));
  await write;
  await done;
  assert.equal(drained, true);
});

test('pushMany queues all of its writes or none: past the room left, every one is refused at once', async () => {
  const writer = manualWriter();
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 4, maxBatchSize: 10 });
  const first = queue.pushMany([1, 2, 3]);
  await assert.rejects(queue.pushMany([4, 5]), (error) => error instanceof StoreUnavailableError && error.reason === 'queue_full');
  assert.deepEqual(queue.stats(), { queueDepth: 3, queueLimit: 4, rejectedQueueFull: 2 });
  const batch = await writer.batch(0);
  assert.deepEqual(batch.items, [1, 2, 3], 'the refused writes were never queued');
  batch.finish(writer.committed(batch.items));
  assert.deepEqual(await first, ['stored 1', 'stored 2', 'stored 3']);
});

test('pushMany resolves only once every write is done, and rejects when any one of them failed', async () => {
  const writer = manualWriter();
  const queue = createWriteQueue({ writeBatch: writer.writeBatch, limit: 10, maxBatchSize: 2 });
  let settled = false;
  const all = queue.pushMany([1, 2, 3]).finally(() => (settled = true));
  (await writer.batch(0)).finish(writer.committed([1, 2]));
  await writer.nextTurn();
  assert.equal(settled, false, 'the third write is still waiting for its batch');
  (await writer.batch(1)).finish([{ ok: false, error: new Error('row failed') }]);
  await assert.rejects(all, /row failed/);
});
