// GET /stats: totals, the ten busiest senders and the first and last instants, all read from
// counters the writer maintains and index ends, so the answer costs the same at any table size.
import type { Route } from '../http/route.ts';
import type { BoundedReader } from './read-gate.ts';
import type { RefusalMapper } from './read-refusals.ts';

export function statsRoutes({ reader, refusals }: { reader: BoundedReader; refusals: RefusalMapper }): Route[] {
  return [
    {
      method: 'GET',
      path: '/stats',
      handler: async ({ logFields }) => ({ status: 200, body: await refusals(reader.stats(), logFields) }),
    },
  ];
}
