// The families of the write path every backend shares: the bounded write queue, read at scrape time,
// and the write batches, recorded as each one ends. A backend registers them on the registry it is
// given, beside families of its own (sqlite/sqlite-metrics.ts), and takes the help of the families
// of what it holds from here.
import type { Counter, Metrics } from '../observability/metrics.ts';
import { MAX_BATCH_SIZE, type WriteStats } from './write-queue.ts';

/**
 * The help of the families every backend fills from its own figures (sqlite/sqlite-metrics.ts and
 * sqlite-eraser.ts, postgres/postgres-metrics.ts): one text each, true of both, so a dashboard
 * reads the same whichever backend runs.
 */
export const STORE_FAMILY_HELP = {
  messages_stored: 'Messages currently stored.',
  database_size_bytes: "Size of the database, in bytes: SQLite's pages times the page size (the write-ahead log not included), or PostgreSQL's pg_database_size.",
  tombstones: 'Erased and expired message ids kept (as keyed hashes) so that a redelivery is not stored again.',
  messages_erased_total: 'Messages erased: by request for one message or one sender, or by retention.',
} as const;

/** Why messages were erased: the label values of messages_erased_total. */
export type EraseReason = 'message' | 'sender' | 'retention';

/** messages_erased_total, every reason present from 0; its `inc` takes the reason and how many. */
export function registerErasures(metrics: Metrics): (reason: EraseReason, count: number) => void {
  const erased: Counter = metrics.counter({ name: 'messages_erased_total', help: STORE_FAMILY_HELP.messages_erased_total, labelNames: ['reason'] });
  for (const reason of ['message', 'sender', 'retention'] as const) erased.inc({ reason }, 0);
  return (reason, count) => erased.inc({ reason }, count);
}

/** Upper bounds of the batch-size histogram, in messages, up to the most one batch holds. */
const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, MAX_BATCH_SIZE];

export function registerWriteQueueMetrics(metrics: Metrics, writeStats: () => WriteStats): void {
  const queueLimit = metrics.gauge({
    name: 'write_queue_limit',
    help: 'Most messages that may wait to be committed at once (WRITE_QUEUE_LIMIT).',
  });
  let rejectedReported = 0;
  const rejected = metrics.counter({
    name: 'write_queue_rejected_total',
    help: 'Messages answered 503 at once because the write queue was full.',
  });
  rejected.inc({}, 0);
  metrics.gauge({
    name: 'write_queue_depth',
    help: 'Messages waiting to be committed, the batch being committed included.',
    // One read sets every queue family, so they describe the same moment.
    collect(depth) {
      const stats = writeStats();
      depth.set({}, stats.queueDepth);
      queueLimit.set({}, stats.queueLimit);
      // The counter mirrors a total the queue keeps: add what it grew since the last scrape.
      rejected.inc({}, stats.rejectedQueueFull - rejectedReported);
      rejectedReported = stats.rejectedQueueFull;
    },
  });
}

/** The families of write batches: the returned function is called as each batch commits or fails. */
export function recordWriteBatches(metrics: Metrics): (size: number, committed: boolean) => void {
  const sizes = metrics.histogram({
    name: 'write_batch_size',
    help: 'Messages per committed write batch: one transaction and one fsync each.',
    buckets: BATCH_SIZE_BUCKETS,
  });
  const failed = metrics.counter({
    name: 'write_batches_failed_total',
    help: 'Write batches not known to have committed (rolled back, or the writer stopped first); each of their messages was answered 503.',
  });
  failed.inc({}, 0);
  return (size, committed) => {
    if (committed) sizes.observe({}, size);
    else failed.inc();
  };
}
