// The PostgreSQL store's own families. Shared with the SQLite store by name, meaning and help text
// (store-metrics.ts): messages_stored, database_size_bytes, tombstones and messages_erased_total.
// Its own, prefixed postgres_: the two pools, batch retries and connection errors. What lives in
// the database is read at scrape time with one bounded query (the sum of the sharded totals and
// pg_database_size, never a count of rows); if the database does not answer, those gauges keep
// their last values.
import type { Metrics } from '../../observability/metrics.ts';
import { registerErasures, STORE_FAMILY_HELP, type EraseReason } from '../store-metrics.ts';
import type { Pool } from './wire/client.ts';

export type PoolName = 'write' | 'read';

export type DatabaseSummary = { messages: number; tombstones: number; databaseBytes: number };

export type PostgresMetricsSources = {
  pools: Readonly<Record<PoolName, Pool>>;
  /** The figures kept in the database, or null when it did not answer. */
  summary: () => Promise<DatabaseSummary | null>;
};

/** What the store records as it happens. */
export type PostgresCounters = {
  retry(sqlStateClass: string): void;
  connectionError(pool: PoolName): void;
  erased(reason: EraseReason, count: number): void;
};

const POOLS: readonly PoolName[] = ['write', 'read'];

export const NO_COUNTERS: PostgresCounters = { retry() {}, connectionError() {}, erased() {} };

export function registerPostgresMetrics(metrics: Metrics, sources: PostgresMetricsSources): PostgresCounters {
  const databaseBytes = metrics.gauge({ name: 'database_size_bytes', help: STORE_FAMILY_HELP.database_size_bytes });
  const tombstones = metrics.gauge({ name: 'tombstones', help: STORE_FAMILY_HELP.tombstones });
  metrics.gauge({
    name: 'messages_stored',
    help: STORE_FAMILY_HELP.messages_stored,
    async collect(messages) {
      const summary = await sources.summary();
      if (summary === null) return;
      messages.set({}, summary.messages);
      tombstones.set({}, summary.tombstones);
      databaseBytes.set({}, summary.databaseBytes);
    },
  });
  const erased = registerErasures(metrics);

  const size = metrics.gauge({ name: 'postgres_pool_size', help: 'Most connections each pool opens.', labelNames: ['pool'] });
  const waiting = metrics.gauge({ name: 'postgres_pool_waiting', help: 'Callers waiting for a connection of each pool.', labelNames: ['pool'] });
  metrics.gauge({
    name: 'postgres_pool_connections',
    help: 'Connections of each pool: idle, busy (lent out), or opening.',
    labelNames: ['pool', 'state'],
    collect(connections) {
      for (const pool of POOLS) {
        const stats = sources.pools[pool].stats();
        connections.set({ pool, state: 'idle' }, stats.idle);
        connections.set({ pool, state: 'busy' }, stats.busy);
        connections.set({ pool, state: 'opening' }, stats.opening);
        waiting.set({ pool }, stats.waiting);
        size.set({ pool }, stats.size);
      }
    },
  });
  const retries = metrics.counter({
    name: 'postgres_write_retries_total',
    help: 'Write batches run again after the database rolled them back, by SQLSTATE class (40: serialization failure or deadlock).',
    labelNames: ['sqlstate_class'],
  });
  retries.inc({ sqlstate_class: '40' }, 0);
  const connectionErrors = metrics.counter({
    name: 'postgres_connection_errors_total',
    help: 'Operations that failed because the connection was lost or could not be made, by pool.',
    labelNames: ['pool'],
  });
  for (const pool of POOLS) connectionErrors.inc({ pool }, 0);

  return {
    retry: (sqlStateClass) => retries.inc({ sqlstate_class: sqlStateClass }),
    connectionError: (pool) => connectionErrors.inc({ pool }),
    erased,
  };
}
