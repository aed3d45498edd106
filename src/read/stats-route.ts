// GET /stats: totals, the ten busiest senders and the first and last instants, all read from
// counters the writer maintains and index ends, so the answer costs the same at any table size.
import type { Route } from '../http/route.ts';
import { ref } from '../model/schemas.ts';
import type { BoundedReader } from './read-gate.ts';
import type { RefusalMapper } from './read-refusals.ts';

export function statsRoutes({ reader, refusals }: { reader: BoundedReader; refusals: RefusalMapper }): Route[] {
  return [
    {
      method: 'GET',
      path: '/stats',
      handler: async ({ logFields }) => ({ status: 200, body: await refusals(reader.stats(), logFields) }),
      doc: {
        summary: 'Totals, the ten busiest senders, the first and last instants',
        tag: 'read',
        responses: {
          200: { description: 'The figures, exact after every write and erasure.', schema: ref('Stats') },
          503: { description: 'The read was refused (its deadline, too many reads, the database away).', schema: ref('Error'), headers: ['Retry-After'] },
        },
      },
    },
  ];
}
