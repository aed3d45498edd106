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
import { openApiRoute } from './http/openapi-route.ts';
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
import { createStreamHub } from './read/stream-hub.ts';
import { streamRoutes } from './read/stream-route.ts';
import type { MessageSink, Store } from './store/store.ts';

export type AppDeps = {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** The connection tracker of the app's servers (http/http-server.ts uses the same one). */
  connections: ConnectionTracker;
  /** Milliseconds since the Unix epoch; tests inject their own. */
  now?: () => number;
  /** The version /openapi.json states (package.json's). */
  version?: string;
};

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export type AppHandlers = {
  /** The public listener (PORT). */
  handler: Handler;
  /** The internal listener (ADMIN_PORT): probes and metrics; null when it is not configured. */
  adminHandler: Handler | null;
  /** Ends every open message stream at once, and refuses new ones (shutdown). */
  closeStreams(): void;
  /** The route tables of both listeners, as dispatched (for the test that checks /openapi.json against them). */
  routes: { public: readonly Route[]; admin: readonly Route[] };
};

export function createApp({ config, store, log, metrics, connections, now = Date.now, version = '0.0.0' }: AppDeps): AppHandlers {
  const answers = createAnswerBudget(config.maxBufferedAnswerBytes);
  metrics.gauge({
    name: 'http_answer_bytes_buffered',
    help: 'Bytes of large answers written but not yet taken by their clients (at most MAX_BUFFERED_ANSWER_BYTES).',
    collect: (gauge) => gauge.set({}, answers.held()),
  });
  const reader = gateReader({ reader: store.reader, limits: config.reads, pageFits: () => answers.fits(config.reads.maxPageBytes), now });
  // Subscribers follow the feed; every commit with a new message wakes them.
  const hub = createStreamHub({ feed: store.reader.feed, readTimeoutMs: config.reads.timeoutMs, pollMs: config.streams.pollMs, now });
  const sink: MessageSink = {
    insertMany: (messages) =>
      store.sink.insertMany(messages).then((results) => {
        if (results.includes('created')) hub.signal();
        return results;
      }),
    unstorableField: (message) => store.sink.unstorableField(message),
  };
  const refusals = createRefusalMapper(metrics);

  // Probes answer whatever the Host: they hand out nothing, and an orchestrator probes by address.
  const { webhook, whatsapp, standard } = config.sources;
  const anySource = webhook.secrets.length + whatsapp.appSecrets.length + standard.secrets.length > 0;
  const probes = healthRoutes({ store: store.lifecycle, sourceConfigured: anySource });
  const scrape = metricsRoutes(metrics).map((route) => requireBearer(route, config.tokens.metrics, 'metrics'));
  const reads = [
    ...messageRoutes({ reader, refusals, maxPageBytes: config.reads.maxPageBytes }),
    ...statsRoutes({ reader, refusals }),
    ...streamRoutes({ hub, limits: config.streams, metrics }),
  ].map((route) => requireBearer(route, config.tokens.read, 'read'));
  // Erasure only with an admin token: without ADMIN_TOKENS nobody can erase (403), since an open
  // erasure route would let anyone delete data. A read token is never an admin token.
  const erasure = config.tokens.admin.length === 0
    ? erasureRoutes(null)
    : erasureRoutes(store.eraser).map((route) => requireBearer(route, config.tokens.admin, 'admin'));
  const onHost = (routes: Route[]) => routes.map((route) => requireAllowedHost(route, config.allowedHosts));
  const info = { title: 'webhook-ingest', version, description: 'Signed-webhook ingestion of WhatsApp-like messages: receive, list, stream, erase.' };
  const publicRoutes: Route[] = [
    openApiRoute(() => publicRoutes, info),
    ...probes,
    ...onHost(ingestRoutes({ config, sink, metrics, now })),
    ...onHost(reads),
    ...onHost(erasure),
    // With an internal listener, /metrics leaves the public port.
    ...(config.admin === null ? onHost(scrape) : []),
  ];

  const adminRoutes: Route[] = [openApiRoute(() => adminRoutes, info), ...probes, ...scrape];
  const recordRequest = createRequestMetrics(metrics);
  const dispatch = (routes: Route[]) => createDispatcher({ routes, log, recordRequest, connections, answers });
  return {
    handler: dispatch(publicRoutes),
    adminHandler: config.admin === null ? null : dispatch(adminRoutes),
    closeStreams: () => hub.stop(),
    routes: { public: publicRoutes, admin: config.admin === null ? [] : adminRoutes },
  };
}
