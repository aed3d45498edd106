// What ingest requests came to, by source: the log line's `result` and webhook_requests_total, which
// key of a source's list verified each request (so an operator sees when an old secret stops being
// used and can remove it), what notifications carried that is not a message, and the items skipped
// as unmappable. Every label value comes from a fixed list: a payload can add none.
import type { Answered } from '../http/route.ts';
import type { Metrics } from '../observability/metrics.ts';

/** Every outcome of an ingest request. */
const RESULTS = [
  'created',
  'duplicate',
  'erased',
  'ignored',
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
  /** A source's route's onAnswered: sets the log line's `source` and `result` from the answer given, and counts it. */
  recorder(source: string): (answered: Answered) => void;
  keyMatched(source: string, keyIndex: number): void;
  ignored(source: string, counts: Readonly<Record<string, number>>): void;
  skipped(source: string, count: number): void;
};

export function createIngestOutcomes(metrics: Metrics, sources: readonly { name: string; keys: number; ignoredKinds: readonly string[] }[]): IngestOutcomes {
  const requests = metrics.counter({
    name: 'webhook_requests_total',
    help: 'Ingest requests, by source and result.',
    labelNames: ['source', 'result'],
  });
  const keys = metrics.counter({
    name: 'webhook_signature_key_total',
    help: 'Verified ingest requests, by source and the position of the key that matched in its list (0 is the first).',
    labelNames: ['source', 'key'],
  });
  const ignored = metrics.counter({
    name: 'webhook_ignored_total',
    help: 'What verified notifications carried that is not a message (delivery receipts, errors, other fields), acknowledged and not stored.',
    labelNames: ['source', 'kind'],
  });
  const skipped = metrics.counter({
    name: 'webhook_items_skipped_total',
    help: 'Messages in verified notifications that could not be mapped: acknowledged, logged and not stored.',
    labelNames: ['source'],
  });
  for (const source of sources) {
    for (const result of RESULTS) requests.inc({ source: source.name, result }, 0);
    for (let key = 0; key < source.keys; key++) keys.inc({ source: source.name, key: String(key) }, 0);
    for (const kind of source.ignoredKinds) ignored.inc({ source: source.name, kind }, 0);
    if (source.ignoredKinds.length > 0) skipped.inc({ source: source.name }, 0);
  }
  return {
    recorder: (source) => ({ ctx, errorCode }) => {
      // The answer given decides: a handler's own result holds only when it answered 200 itself.
      const result = errorCode === null ? String(ctx.logFields.result ?? 'error') : errorCode === 'internal_error' ? 'error' : errorCode;
      ctx.logFields.source = source;
      ctx.logFields.result = result;
      requests.inc({ source, result });
    },
    keyMatched: (source, keyIndex) => keys.inc({ source, key: String(keyIndex) }),
    ignored(source, counts) {
      for (const [kind, count] of Object.entries(counts)) if (count > 0) ignored.inc({ source, kind }, count);
    },
    skipped: (source, count) => skipped.inc({ source }, count),
  };
}
