// The one wiring point: createApp assembles the routes from the parts it is given and returns the
// plain (req, res) handlers of its listeners: the public one, and the internal one for probes and
// metrics when ADMIN_PORT is set. Each route factory gets only what it needs: the ingest routes a
// sink, the read routes a gated reader, the probes the store's lifecycle. Who may call what is
// decided here, in one place: the guards below wrap routes in bearer and Host checks. Only the
// entry point reads the environment, opens the store and listens; two apps share nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config/config.ts';
import { requireAllowedHost } from './http/allowed-hosts.ts';
import { createAnswerBudget } from './http/answer-budget.ts';
import { requireBearer } from './http/bearer.ts';
import type { ConnectionTracker } from './http/connection-tracker.ts';
import { createDispatcher } from './http/dispatch.ts';
import type { Route } from './http/route.ts';
import { erasureRoutes } from './erasure/erasure-routes.ts';
import { ingestRoutes } from './ingest/ingest-routes.ts';
import { healthRoutes } from './observability/health-routes.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';
import { metricsRoutes } from './observability/metrics-route.ts';
import { createRequestMetrics } from './observability/request-metrics.ts';
import { messageRoutes } from './read/messages-route.ts';
import { gateReader } from './read/read-gate.ts';
import { createRefusalMapper } from './read/read-refusals.ts';
import { statsRoutes } from './read/stats-route.ts';
import type { Store } from './store/store.ts';

export type AppDeps = {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** The connection tracker of the app's servers (http/http-server.ts uses the same one). */
  connections: ConnectionTracker;
  /** Milliseconds since the Unix epoch; tests inject their own. */
  now?: () => number;
};

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export type AppHandlers = {
  /** The public listener (PORT). */
  handler: Handler;
  /** The internal listener (ADMIN_PORT): probes and metrics; null when it is not configured. */
  adminHandler: Handler | null;
};

export function createApp({ config, store, log, metrics, connections, now = Date.now }: AppDeps): AppHandlers {
  const answers = createAnswerBudget(config.maxBufferedAnswerBytes);
  metrics.gauge({
    name: 'http_answer_bytes_buffered',
    help: 'Bytes of large answers written but not yet taken by their clients (at most MAX_BUFFERED_ANSWER_BYTES).',
    collect: (gauge) => gauge.set({}, answers.held()),
  });
  const reader = gateReader({ reader: store.reader, limits: config.reads, pageFits: () => answers.fits(config.reads.maxPageBytes), now });
  const refusals = createRefusalMapper(metrics);

  // Probes answer whatever the Host: they hand out nothing, and an orchestrator probes by address.
  const { webhook, whatsapp, standard } = config.sources;
  const anySource = webhook.secrets.length + whatsapp.appSecrets.length + standard.secrets.length > 0;
  const probes = healthRoutes({ store: store.lifecycle, sourceConfigured: anySource });
  const scrape = metricsRoutes(metrics).map((route) => requireBearer(route, config.tokens.metrics));
  const reads = [
    ...messageRoutes({ reader, refusals, maxPageBytes: config.reads.maxPageBytes }),
    ...statsRoutes({ reader, refusals }),
  ].map((route) => requireBearer(route, config.tokens.read));
  // Erasure only with an admin token: without ADMIN_TOKENS nobody can erase (403), since an open
  // erasure route would let anyone delete data. A read token is never an admin token.
  const erasure = config.tokens.admin.length === 0
    ? erasureRoutes(null)
    : erasureRoutes(store.eraser).map((route) => requireBearer(route, config.tokens.admin));
  const onHost = (routes: Route[]) => routes.map((route) => requireAllowedHost(route, config.allowedHosts));
  const publicRoutes = [
    ...probes,
    ...onHost(ingestRoutes({ config, sink: store.sink, metrics, now })),
    ...onHost(reads),
    ...onHost(erasure),
    // With an internal listener, /metrics leaves the public port.
    ...(config.admin === null ? onHost(scrape) : []),
  ];

  const recordRequest = createRequestMetrics(metrics);
  const dispatch = (routes: Route[]) => createDispatcher({ routes, log, recordRequest, connections, answers });
  return {
    handler: dispatch(publicRoutes),
    adminHandler: config.admin === null ? null : dispatch([...probes, ...scrape]),
  };
}
