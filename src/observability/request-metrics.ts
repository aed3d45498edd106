// The per-request metric families, recorded once per request by the dispatcher (http/dispatch.ts).
// Every label is bounded, so a client cannot grow the scrape: the method is a known one or OTHER,
// the path is the route pattern (or "unmatched"), the status comes from the service's own table.
import type { Metrics } from './metrics.ts';

export const UNMATCHED_PATH = 'unmatched';

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Upper bounds in milliseconds; the seconds histogram uses the same bounds divided by 1000. */
const LATENCY_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export type RequestObservation = {
  method: string;
  /** The route pattern, or UNMATCHED_PATH: never the raw URL. */
  path: string;
  status: number;
  latencyMs: number;
};

export function createRequestMetrics(metrics: Metrics): (observation: RequestObservation) => void {
  const requests = metrics.counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'path', 'status'],
  });
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

  return ({ method, path, status, latencyMs: ms }) => {
    requests.inc({ method: KNOWN_METHODS.has(method) ? method : 'OTHER', path, status: String(status) });
    latencyMs.observe({ path }, ms);
    durationSeconds.observe({ path }, ms / 1000);
  };
}
