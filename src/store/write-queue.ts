// The bounded queue in front of the writer, and the group-commit schedule. Writes wait here while
// the previous batch commits; when it is done, everything that arrived meanwhile (up to
// maxBatchSize) goes as the next batch at once. So there is no timer to tune: under light load a
// write leaves after one event-loop turn, under heavy load batches grow by themselves, and a write
// waits for the commit ahead of it plus, when more than maxBatchSize are waiting, the batches ahead
// of it in the queue (so at most limit / maxBatchSize of them). When `limit` writes are already
// waiting, the next is refused at once (backpressure) instead of letting memory and latency grow
// without bound.
import { StoreUnavailableError } from './store.ts';

/**
 * Most messages the stores commit in one transaction. It bounds how long one commit takes, and so
 * how long the first message of a batch waits behind the others: each message also writes its
 * index entries and counters. (The batch-size histogram's buckets end here: store-metrics.ts.)
 */
export const MAX_BATCH_SIZE = 256;

/** The queue now, for metrics. */
export type WriteStats = {
  /** Writes waiting to be committed, the batch being committed included. */
  queueDepth: number;
  queueLimit: number;
  /** Writes refused at once because the queue was full, since it was created. */
  rejectedQueueFull: number;
};

export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

export type WriteQueueOptions<Item, Result> = {
  /** Writes one batch: one outcome per item, in order; a rejection fails every item of the batch. */
  writeBatch: (items: Item[]) => Promise<Settled<Result>[]>;
  /** Most writes waiting or being written at once. */
  limit: number;
  maxBatchSize: number;
  /** Called after each batch, for metrics. */
  onBatch?: (size: number, committed: boolean) => void;
};

export type WriteQueue<Item, Result> = {
  /**
   * Queues every item, or none: when fewer than items.length places are left, all are refused at
   * once with queue_full, so a request is never half queued. Resolves with one result per item, in
   * order, once every one has been written; rejects with the first failure.
   */
  pushMany(items: readonly Item[]): Promise<Result[]>;
  /** Resolves once nothing is waiting or being written. */
  drained(): Promise<void>;
  stats(): WriteStats;
};

/**
 * The items of one pushMany share one promise (a request costs one, whatever it holds): each item
 * fills its place, the last to arrive resolves, the first failure rejects.
 */
type Group<Result> = { results: Result[]; remaining: number; settled: boolean; resolve: (results: Result[]) => void; reject: (error: Error) => void };
type Waiting<Item, Result> = { item: Item; group: Group<Result>; index: number };

function fill<Result>(group: Group<Result>, index: number, result: Result): void {
  group.results[index] = result;
  if (--group.remaining === 0 && !group.settled) {
    group.settled = true;
    group.resolve(group.results);
  }
}

function fail<Result>(group: Group<Result>, error: Error): void {
  if (group.settled) return;
  group.settled = true;
  group.reject(error);
}

export function createWriteQueue<Item, Result>(options: WriteQueueOptions<Item, Result>): WriteQueue<Item, Result> {
  const { writeBatch, limit, maxBatchSize, onBatch } = options;
  let waiting: Waiting<Item, Result>[] = [];
  let writing = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];
  let rejectedQueueFull = 0;

  function schedule(): void {
    if (scheduled || writing > 0 || waiting.length === 0) return;
    scheduled = true;
    // One event-loop turn lets requests whose bodies arrived in the same poll join the batch.
    setImmediate(() => void flush());
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = waiting.length <= maxBatchSize ? waiting : waiting.slice(0, maxBatchSize);
    waiting = batch === waiting ? [] : waiting.slice(maxBatchSize);
    writing = batch.length;
    let committed = false;
    try {
      const outcomes = await writeBatch(batch.map((entry) => entry.item));
      committed = true;
      batch.forEach((entry, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) fail(entry.group, new Error('writer returned fewer outcomes than the batch held'));
        else if (outcome.ok) fill(entry.group, entry.index, outcome.value);
        else fail(entry.group, outcome.error);
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new StoreUnavailableError('commit_failed');
      for (const entry of batch) fail(entry.group, failure);
    }
    writing = 0;
    onBatch?.(batch.length, committed);
    if (waiting.length > 0) {
      // What arrived during this commit goes now, before this batch's answers are written (they
      // only run once this function returns), so the writer starts on it meanwhile.
      void flush();
    } else {
      const resolvers = idle;
      idle = [];
      for (const resolve of resolvers) resolve();
    }
  }

  return {
    pushMany(items) {
      if (waiting.length + writing + items.length > limit) {
        rejectedQueueFull += items.length;
        return Promise.reject(new StoreUnavailableError('queue_full'));
      }
      if (items.length === 0) return Promise.resolve([]);
      return new Promise<Result[]>((resolve, reject) => {
        const group: Group<Result> = { results: new Array<Result>(items.length), remaining: items.length, settled: false, resolve, reject };
        for (let index = 0; index < items.length; index++) waiting.push({ item: items[index] as Item, group, index });
        schedule();
      });
    },
    drained() {
      if (waiting.length === 0 && writing === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    stats() {
      return { queueDepth: waiting.length + writing, queueLimit: limit, rejectedQueueFull };
    },
  };
}
