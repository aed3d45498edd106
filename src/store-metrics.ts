// Gauges read from the store at scrape time: how many messages it holds and how large the database
// is. Other store-level families (write queue depth, batch sizes) belong here too.
import type { Metrics } from './metrics.ts';
import type { Store } from './store.ts';

export function registerStoreMetrics(metrics: Metrics, store: Store): void {
  const databaseBytes = metrics.gauge({
    name: 'database_size_bytes',
    help: 'Size of the database (pages times page size), in bytes.',
  });
  metrics.gauge({
    name: 'messages_stored',
    help: 'Messages currently stored.',
    // One summary per scrape sets both gauges, so they describe the same moment.
    async collect(messages) {
      const summary = await store.summary();
      messages.set({}, summary.messages);
      databaseBytes.set({}, summary.databaseBytes);
    },
  });
}
