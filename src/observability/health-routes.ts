// Liveness and readiness probes. Live: the process answers. Ready: it can do its job, which needs a
// configured webhook secret and a database that answers a query.
import type { Route } from '../http/route.ts';
import type { StoreLifecycle } from '../store/store.ts';

export type HealthDeps = { store: StoreLifecycle; webhookConfigured: boolean };

export function healthRoutes({ store, webhookConfigured }: HealthDeps): Route[] {
  return [
    { method: 'GET', path: '/health/live', handler: async () => ({ status: 200, body: { status: 'live' } }) },
    {
      method: 'GET',
      path: '/health/ready',
      handler: async () => {
        const checks = {
          webhook_secret: webhookConfigured ? 'ok' : 'missing',
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
