// Every ingest source the configuration enables, as routes sharing one body budget and one set of
// outcome counters. A new source is an IngestSource here: a path, a scheme, its keys, a decoder, a
// body limit. /webhook is always routed (unconfigured, it answers 503, as it always has); the
// provider routes exist only when their secrets are set, so an unconfigured one is a 404.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { SourcesConfig } from '../config/config.ts';
import { createBodyBudget } from '../http/body.ts';
import type { ParameterDoc, Route } from '../http/route.ts';
import { ref } from '../model/schemas.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { MessageSink } from '../store/store.ts';
import { decodeFlatMessage } from './decoders/flat-message.ts';
import { decodeWhatsApp, WHATSAPP_IGNORED_KINDS } from './decoders/whatsapp.ts';
import { createIngestOutcomes } from './ingest-metrics.ts';
import { ingestRoute, type IngestSource } from './ingest-route.ts';
import { hubSignatureScheme } from './schemes/hub-signature.ts';
import { parseStandardWebhooksSecret, standardWebhooksScheme } from './schemes/standard-webhooks.ts';
import { xSignatureScheme } from './schemes/x-signature.ts';
import { whatsappHandshakeRoute } from './whatsapp-route.ts';

export type IngestConfig = {
  sources: SourcesConfig;
  /** Most memory held at once by all bodies still arriving, before their signature is checked. */
  maxBufferedBodyBytes: number;
  writeQueueLimit: number;
};

export type IngestRoutesDeps = { config: IngestConfig; sink: MessageSink; metrics: Metrics; now: () => number };

function header(name: string, description: string, pattern: string): ParameterDoc {
  return { name, in: 'header', required: true, description, schema: { type: 'string', pattern } };
}

/** Most messages of one notification handed to the sink at once (the largest write batch). */
const INSERT_CHUNK = 256;

export function ingestRoutes({ config, sink, metrics, now }: IngestRoutesDeps): Route[] {
  const { webhook, whatsapp, standard } = config.sources;
  const utf8Key = (secret: string) => createSecretKey(Buffer.from(secret, 'utf8'));
  const sources: IngestSource[] = [
    {
      name: 'webhook', path: '/webhook', scheme: xSignatureScheme, keys: webhook.secrets.map(utf8Key),
      decode: decodeFlatMessage, maxBodyBytes: webhook.maxBodyBytes, invalidItems: 'refuse',
      doc: {
        summary: 'Receive one message, signed with X-Signature',
        description: 'X-Signature is the hex HMAC-SHA256 of the raw body, keyed by any of WEBHOOK_SECRET(S).',
        headers: [header('X-Signature', 'Hex HMAC-SHA256 of the exact body bytes.', '^[0-9a-fA-F]{64}$')],
        body: ref('Message'),
      },
    },
  ];
  if (whatsapp.appSecrets.length > 0) {
    sources.push({
      name: 'whatsapp', path: '/webhooks/whatsapp', scheme: hubSignatureScheme, keys: whatsapp.appSecrets.map(utf8Key),
      decode: decodeWhatsApp, maxBodyBytes: whatsapp.maxBodyBytes, invalidItems: 'skip',
      doc: {
        summary: 'Receive a WhatsApp Cloud API notification',
        description: 'Every item of entry[].changes[].value.messages[] is stored; statuses, errors and other fields are acknowledged and counted; an item that cannot be mapped is skipped and counted, and the rest stored (200).',
        headers: [header('X-Hub-Signature-256', 'sha256= and the hex HMAC-SHA256 of the exact body, keyed by the app secret.', '^sha256=[0-9a-fA-F]{64}$')],
        body: { type: 'object', required: ['object', 'entry'], properties: { object: { const: 'whatsapp_business_account' }, entry: { type: 'array' } } },
      },
    });
  }
  if (standard.secrets.length > 0) {
    sources.push({
      name: 'standard', path: '/webhooks/standard', scheme: standardWebhooksScheme({ toleranceSeconds: standard.toleranceSeconds }),
      // Checked when the configuration was read (config.ts): every one parses.
      keys: standard.secrets.map((secret) => parseStandardWebhooksSecret(secret) as KeyObject),
      decode: decodeFlatMessage, maxBodyBytes: standard.maxBodyBytes, invalidItems: 'refuse',
      doc: {
        summary: 'Receive one message, signed as Standard Webhooks prescribe',
        description: `webhook-signature holds v1 entries: base64 HMAC-SHA256 of id.timestamp.body; the timestamp within ${standard.toleranceSeconds} s of now.`,
        headers: [
          header('webhook-id', 'The message id of the delivery.', '^[A-Za-z0-9_:+/=-]{1,256}$'),
          header('webhook-timestamp', 'Unix seconds.', '^[0-9]{1,12}$'),
          header('webhook-signature', 'Space-separated v1,<base64> entries.', '^\\S.*$'),
        ],
        body: ref('Message'),
      },
    });
  }

  const budget = createBodyBudget(config.maxBufferedBodyBytes);
  metrics.gauge({
    name: 'webhook_body_bytes_buffered',
    help: 'Bytes held by webhook bodies still arriving, not yet verified (at most MAX_BUFFERED_BODY_BYTES).',
    collect: (gauge) => gauge.set({}, budget.held()),
  });
  const outcomes = createIngestOutcomes(
    metrics,
    sources.map((source) => ({ name: source.name, keys: source.keys.length, ignoredKinds: source.name === 'whatsapp' ? WHATSAPP_IGNORED_KINDS : [] })),
  );
  const insertChunk = Math.min(INSERT_CHUNK, config.writeQueueLimit);
  const routes = sources.map((source) => ingestRoute(source, { sink, budget, outcomes, now, insertChunk }));
  if (whatsapp.appSecrets.length > 0) routes.push(whatsappHandshakeRoute('/webhooks/whatsapp', whatsapp.verifyTokens));
  return routes;
}
