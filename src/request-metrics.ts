// The per-request metric families, recorded once per request by handleRequest. Every label is
// bounded, so a client cannot grow the scrape: the method is a known one or OTHER, the path is the
// route pattern (or "unmatched"), the status and the webhook result come from the service's own
// tables.
import type { Metrics } from './metrics.ts';

export const UNMATCHED_PATH = 'unmatched';

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Upper bounds in milliseconds; the seconds histogram uses the same bounds divided by 1000. */
const LATENCY_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Every outcome of POST /webhook, exported from zero so that rate() sees the first occurrence. */
const WEBHOOK_RESULTS = [
  'created',
  'duplicate',
  'invalid_signature',
  'validation_error',
  'payload_too_large',
  'unsupported_media_type',
  'body_incomplete',
  'not_configured',
  'unavailable',
  'error',
] as const;

export type RequestObservation = {
  method: string;
  /** The route pattern, or UNMATCHED_PATH: never the raw URL. */
  path: string;
  status: number;
  latencyMs: number;
  /** Set for requests that reached the webhook handler. */
  webhookResult?: string;
};

export function createRequestMetrics(metrics: Metrics): (observation: RequestObservation) => void {
  const requests = metrics.counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'path', 'status'],
  });
  const webhookRequests = metrics.counter({
    name: 'webhook_requests_total',
    help: 'POST /webhook requests, by result.',
    labelNames: ['result'],
  });
  for (const result of WEBHOOK_RESULTS) webhookRequests.inc({ result }, 0);
  const latencyMs = metrics.histogram({
    name: 'request_latency_ms',
    help: 'Time from receiving a request to sending its response, in milliseconds, by route pattern.',
    labelNames: ['path'],
    buckets: LATENCY_BUCKETS_MS,
  });
  const durationSeconds = metrics.histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, in seconds, by route pattern.',
    labelNames: ['path'],
    buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
  });

  return ({ method, path, status, latencyMs: ms, webhookResult }) => {
    requests.inc({ method: KNOWN_METHODS.has(method) ? method : 'OTHER', path, status: String(status) });
    if (webhookResult !== undefined) webhookRequests.inc({ result: webhookResult });
    latencyMs.observe({ path }, ms);
    durationSeconds.observe({ path }, ms / 1000);
  };
}
