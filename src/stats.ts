// GET /stats: totals, the ten busiest senders and the first and last instants, all read from
// counters the writer maintains and index ends, so the answer costs the same at any table size.
import type { AppDeps, Handler } from './app.ts';
import type { Route } from './router.ts';

export function statsRoutes({ store }: AppDeps): Route<Handler>[] {
  return [{ method: 'GET', path: '/stats', handler: async () => ({ status: 200, body: await store.stats() }) }];
}
