// Liveness and readiness probes. Live: the process answers. Ready: it can do its job, which needs at
// least one configured ingest source and a database that answers a query. (The check keeps the name
// `webhook_secret` that existing monitors read: it is "ok" when any source has a secret.)
import type { Route } from '../http/route.ts';
import { ref } from '../model/schemas.ts';
import type { StoreLifecycle } from '../store/store.ts';

export type HealthDeps = { store: StoreLifecycle; sourceConfigured: boolean };

export function healthRoutes({ store, sourceConfigured }: HealthDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/health/live',
      handler: async () => ({ status: 200, body: { status: 'live' } }),
      doc: { summary: 'Liveness: the process answers', tag: 'probes', responses: { 200: { description: 'Alive.', schema: ref('Health') } } },
    },
    {
      method: 'GET',
      path: '/health/ready',
      doc: {
        summary: 'Readiness: a source is configured and the database answers',
        tag: 'probes',
        responses: { 200: { description: 'Ready.', schema: ref('Health') }, 503: { description: 'Not ready; `checks` says why.', schema: ref('Health') } },
      },
      handler: async () => {
        const checks = {
          webhook_secret: sourceConfigured ? 'ok' : 'missing',
          database: (await store.ping()) ? 'ok' : 'unavailable',
        };
        const ready = Object.values(checks).every((check) => check === 'ok');
        return ready
          ? { status: 200, body: { status: 'ready' } }
          : { status: 503, body: { status: 'not_ready', checks } };
      },
    },
  ];
}
