// The store's families: how many messages it holds, how large the database is, how far the search
// index lags, and the write path's queue, read at scrape time; and the write batches, recorded as
// each one ends.
import type { Metrics } from './metrics.ts';
import type { Store } from './store.ts';

/** Upper bounds of the batch-size histogram, in messages; 256 is the most one batch holds. */
const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export function registerStoreMetrics(metrics: Metrics, store: Store): void {
  const databaseBytes = metrics.gauge({
    name: 'database_size_bytes',
    help: 'Size of the database (pages times page size), in bytes.',
  });
  const searchBacklog = metrics.gauge({
    name: 'search_index_backlog_messages',
    help: 'Messages stored but not in the search index yet; searches check their text directly.',
  });
  metrics.gauge({
    name: 'messages_stored',
    help: 'Messages currently stored.',
    // One summary per scrape sets every store gauge, so they describe the same moment.
    async collect(messages) {
      const summary = await store.summary();
      messages.set({}, summary.messages);
      databaseBytes.set({}, summary.databaseBytes);
      searchBacklog.set({}, summary.searchBacklog);
    },
  });

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
      const stats = store.writeStats();
      depth.set({}, stats.queueDepth);
      queueLimit.set({}, stats.queueLimit);
      // The counter mirrors a total the store keeps: add what it grew since the last scrape.
      rejected.inc({}, stats.rejectedQueueFull - rejectedReported);
      rejectedReported = stats.rejectedQueueFull;
    },
  });
}

/**
 * The families of write batches: pass the returned function to the store as its `onBatch`, which
 * calls it as each batch commits or fails.
 */
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
