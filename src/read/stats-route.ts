// GET /stats: totals, the ten busiest senders and the first and last instants, all read from
// counters the writer maintains and index ends, so the answer costs the same at any table size.
import type { Route } from '../http/route.ts';
import type { MessageReader } from '../store/store.ts';

export function statsRoutes(reader: MessageReader): Route[] {
  return [{ method: 'GET', path: '/stats', handler: async () => ({ status: 200, body: await reader.stats() }) }];
}
