// GET /metrics: the Prometheus text exposition of every family registered on this app's registry.
import type { AppDeps, Handler } from './app.ts';
import { METRICS_CONTENT_TYPE } from './metrics.ts';
import type { Route } from './router.ts';

export function metricsRoutes({ metrics }: AppDeps): Route<Handler>[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => ({ status: 200, text: await metrics.render(), contentType: METRICS_CONTENT_TYPE }),
    },
  ];
}
