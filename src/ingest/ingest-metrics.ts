// What ingest requests came to, in the log line's `result` and in webhook_requests_total. Every
// result is exported from zero, so that rate() sees the first occurrence.
import type { Answered } from '../http/route.ts';
import type { Metrics } from '../observability/metrics.ts';

/** Every outcome of an ingest request. */
const RESULTS = [
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

export type IngestOutcomes = {
  /** A route's onAnswered: sets the log line's `result` from the answer given, and counts it. */
  record(answered: Answered): void;
};

export function createIngestOutcomes(metrics: Metrics): IngestOutcomes {
  const requests = metrics.counter({
    name: 'webhook_requests_total',
    help: 'POST /webhook requests, by result.',
    labelNames: ['result'],
  });
  for (const result of RESULTS) requests.inc({ result }, 0);
  return {
    record({ ctx, errorCode }) {
      // The answer given decides: a handler's own result holds only when it answered 200 itself.
      const result = errorCode === null ? String(ctx.logFields.result ?? 'error') : errorCode === 'internal_error' ? 'error' : errorCode;
      ctx.logFields.result = result;
      requests.inc({ result });
    },
  };
}
