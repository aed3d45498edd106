// Signs one message as a source would and POSTs it to a running service, printing status and body.
//   WEBHOOK_SECRETS=... node scripts/send.ts --url http://127.0.0.1:8000 --id m1 --from +919876543210 --text hi
//   WHATSAPP_APP_SECRETS=... node scripts/send.ts --source whatsapp --text hi
//   STANDARD_WEBHOOKS_SECRETS=whsec_... node scripts/send.ts --source standard --text hi
// Each source signs with the first value of its comma-separated secrets variable; for webhook,
// WEBHOOK_SECRET is read when WEBHOOK_SECRETS is unset.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { InboundMessage } from '../src/model/message.ts';
import { signHubBody } from '../src/ingest/schemes/hub-signature.ts';
import { parseStandardWebhooksSecret, signStandardWebhook } from '../src/ingest/schemes/standard-webhooks.ts';
import { signBody } from '../src/ingest/schemes/x-signature.ts';

type Source = {
  path: string;
  secretVariable: string;
  encode(message: InboundMessage): string;
  sign(secret: string, body: string): Record<string, string>;
};

const SOURCES: Record<string, Source> = {
  webhook: {
    path: '/webhook', secretVariable: 'WEBHOOK_SECRETS', encode: (message) => JSON.stringify(message),
    sign: (secret, body) => ({ 'X-Signature': signBody(secret, body) }),
  },
  whatsapp: {
    path: '/webhooks/whatsapp', secretVariable: 'WHATSAPP_APP_SECRETS', encode: whatsAppNotification,
    sign: (secret, body) => ({ 'X-Hub-Signature-256': signHubBody(secret, body) }),
  },
  standard: {
    path: '/webhooks/standard', secretVariable: 'STANDARD_WEBHOOKS_SECRETS', encode: (message) => JSON.stringify(message),
    sign: (secret, body) => {
      const key = parseStandardWebhooksSecret(secret) ?? exit(2, 'STANDARD_WEBHOOKS_SECRETS: the first secret must be whsec_ and base64 of 24 to 64 bytes');
      return signStandardWebhook({ secret: key, id: `msg_${randomUUID()}`, timestamp: Math.floor(Date.now() / 1000), body });
    },
  },
};

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: 'webhook' },
    url: { type: 'string', default: 'http://127.0.0.1:8000' },
    id: { type: 'string', default: `m-${Date.now()}` },
    from: { type: 'string', default: '+919876543210' },
    to: { type: 'string', default: '+14155550100' },
    ts: { type: 'string', default: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    text: { type: 'string' },
  },
});

const source = Object.hasOwn(SOURCES, values.source) ? SOURCES[values.source] : undefined;
if (source === undefined) exit(2, `--source must be one of: ${Object.keys(SOURCES).join(', ')}`);
const secrets = process.env[source.secretVariable] ?? (values.source === 'webhook' ? process.env.WEBHOOK_SECRET : undefined);
const secret = secrets?.split(',')[0]?.trim();
if (!secret) exit(2, `${source.secretVariable} must be set to the service's secrets (the first one signs)`);

const body = source.encode({ message_id: values.id, from: values.from, to: values.to, ts: values.ts, text: values.text ?? null });
const response = await fetch(new URL(source.path, values.url), {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...source.sign(secret, body) },
  body,
}).catch((error: Error) => exit(1, `cannot reach ${values.url}: ${error.cause instanceof Error ? error.cause.message : error.message}`));
process.stdout.write(`${response.status} ${await response.text()}\n`);
process.exitCode = response.ok ? 0 : 1;

/** A minimal notification as Meta sends one: a text message, or a reaction (no text) without --text. */
function whatsAppNotification({ message_id, from, to, ts, text }: InboundMessage): string {
  const seconds = Date.parse(ts) / 1000;
  if (!Number.isInteger(seconds)) exit(2, '--ts must be an ISO-8601 UTC instant to the second, e.g. 2025-01-15T10:00:00Z');
  const content = text === null
    ? { type: 'reaction', reaction: { message_id: 'wamid.none', emoji: '\u{1F44D}' } }
    : { type: 'text', text: { body: text } };
  const message = { from: from.replace(/^\+/, ''), id: message_id, timestamp: String(seconds), ...content };
  const value = { messaging_product: 'whatsapp', metadata: { display_phone_number: to.replace(/^\+/, ''), phone_number_id: '0' }, messages: [message] };
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '0', changes: [{ value, field: 'messages' }] }] });
}

function exit(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
