// Every ingest source the configuration enables, as routes sharing one body budget and one outcome
// counter. A new source is an IngestSource here: a path, a scheme, its keys and a decoder.
import { createSecretKey } from 'node:crypto';
import { createBodyBudget } from '../http/body.ts';
import type { Route } from '../http/route.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { MessageSink } from '../store/store.ts';
import { decodeFlatMessage } from './decoders/flat-message.ts';
import { createIngestOutcomes } from './ingest-metrics.ts';
import { ingestRoute, type IngestSource } from './ingest-route.ts';
import { xSignatureScheme } from './schemes/x-signature.ts';

export type IngestConfig = {
  webhookSecrets: readonly string[];
  maxBodyBytes: number;
  /** Most memory held at once by all bodies still arriving, before their signature is checked. */
  maxBufferedBodyBytes: number;
};

export type IngestRoutesDeps = { config: IngestConfig; sink: MessageSink; metrics: Metrics; now: () => number };

export function ingestRoutes({ config, sink, metrics, now }: IngestRoutesDeps): Route[] {
  const budget = createBodyBudget(config.maxBufferedBodyBytes);
  metrics.gauge({
    name: 'webhook_body_bytes_buffered',
    help: 'Bytes held by webhook bodies still arriving, not yet verified (at most MAX_BUFFERED_BODY_BYTES).',
    collect: (gauge) => gauge.set({}, budget.held()),
  });
  const outcomes = createIngestOutcomes(metrics);
  const sources: IngestSource[] = [
    {
      name: 'webhook',
      path: '/webhook',
      scheme: xSignatureScheme,
      keys: config.webhookSecrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8'))),
      decode: decodeFlatMessage,
      maxBodyBytes: config.maxBodyBytes,
    },
  ];
  return sources.map((source) => ingestRoute(source, { sink, budget, outcomes, now }));
}
