// GET /metrics: the Prometheus text exposition of every family registered on this app's registry.
import type { Route } from '../http/route.ts';
import { METRICS_CONTENT_TYPE, type Metrics } from './metrics.ts';

export function metricsRoutes(metrics: Metrics): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => ({ status: 200, text: await metrics.render(), contentType: METRICS_CONTENT_TYPE }),
      doc: {
        summary: 'Prometheus text exposition of every metric family',
        tag: 'observability',
        responses: { 200: { description: 'The exposition, version 0.0.4.', schema: { type: 'string' }, contentType: METRICS_CONTENT_TYPE } },
      },
    },
  ];
}
