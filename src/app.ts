// The one wiring point: createApp assembles the routes from the parts it is given and returns a plain
// (req, res) handler. Each route factory gets only what it needs: the ingest routes a sink, the read
// routes a reader, the probes the store's lifecycle. Only the entry point reads the environment,
// opens the store and listens; two apps in one process share nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config.ts';
import type { ConnectionTracker } from './http/connection-tracker.ts';
import { createDispatcher } from './http/dispatch.ts';
import { ingestRoutes } from './ingest/ingest-routes.ts';
import { healthRoutes } from './observability/health-routes.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';
import { metricsRoutes } from './observability/metrics-route.ts';
import { messageRoutes } from './read/messages-route.ts';
import { statsRoutes } from './read/stats-route.ts';
import type { Store } from './store/store.ts';

export type AppDeps = {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** The server's connection tracker (http/http-server.ts uses the same one). */
  connections: ConnectionTracker;
  /** Milliseconds since the Unix epoch; tests inject their own. */
  now?: () => number;
};

export function createApp({ config, store, log, metrics, connections, now = Date.now }: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = [
    ...healthRoutes({ store: store.lifecycle, webhookConfigured: config.webhookSecrets.length > 0 }),
    ...ingestRoutes({ config, sink: store.sink, metrics, now }),
    ...messageRoutes(store.reader),
    ...statsRoutes(store.reader),
    ...metricsRoutes(metrics),
  ];
  return createDispatcher({ routes, log, metrics, connections });
}
