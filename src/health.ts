// Liveness and readiness probes. Live: the process answers. Ready: it can do its job, which needs
// the webhook secret and a database that answers a query.
import type { AppDeps, Handler } from './app.ts';
import type { Route } from './router.ts';

export function healthRoutes({ config, store }: AppDeps): Route<Handler>[] {
  return [
    { method: 'GET', path: '/health/live', handler: async () => ({ status: 200, body: { status: 'live' } }) },
    {
      method: 'GET',
      path: '/health/ready',
      handler: async () => {
        const checks = {
          webhook_secret: config.webhookSecret === null ? 'missing' : 'ok',
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
