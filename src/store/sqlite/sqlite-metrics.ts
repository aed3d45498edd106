// The SQLite store's own families, read at scrape time with one query so they describe the same
// moment: how many messages it holds, how large the file is, and how far the search index lags.
import type { DatabaseSync } from 'node:sqlite';
import type { Metrics } from '../../observability/metrics.ts';
import { STORE_FAMILY_HELP } from '../store-metrics.ts';
import { SEARCH_BACKLOG_SQL } from './search-index.ts';

export function registerSqliteMetrics(metrics: Metrics, db: DatabaseSync): void {
  // The message count is the total the writer maintains: one row, not a walk of the table.
  const summary = db.prepare(
    `SELECT (SELECT message_count FROM message_totals WHERE id = 1) AS messages,
            (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()) AS databaseBytes,
            ${SEARCH_BACKLOG_SQL} AS searchBacklog,
            (SELECT tombstone_count FROM message_totals WHERE id = 1) AS tombstones`,
  );
  const databaseBytes = metrics.gauge({ name: 'database_size_bytes', help: STORE_FAMILY_HELP.database_size_bytes });
  const searchBacklog = metrics.gauge({
    name: 'search_index_backlog_messages',
    help: 'Messages stored but not in the search index yet; searches check their text directly.',
  });
  const tombstones = metrics.gauge({ name: 'tombstones', help: STORE_FAMILY_HELP.tombstones });
  metrics.gauge({
    name: 'messages_stored',
    help: STORE_FAMILY_HELP.messages_stored,
    collect(messages) {
      const row = summary.get() as { messages: number; databaseBytes: number; searchBacklog: number; tombstones: number };
      messages.set({}, Number(row.messages));
      databaseBytes.set({}, Number(row.databaseBytes));
      searchBacklog.set({}, Number(row.searchBacklog));
      tombstones.set({}, Number(row.tombstones));
    },
  });
}
