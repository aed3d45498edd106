// meta: messages a second when they come as Meta sends them, WhatsApp Cloud API notifications of
// 10 text messages each on /webhooks/whatsapp (X-Hub-Signature-256 over the exact body), against
// the same service taking one message per request on /webhook. Both run on a fresh database with
// both sources configured, so only the route and the batching differ. Each notification is shaped
// as Meta's reference has it (object, entry[].changes[] of field `messages`, metadata, contacts,
// messages), serialised as Meta does (non-ASCII as \u escapes, `/` as `\/`); the texts and senders
// are the synthetic messages of the other scenarios. The service's messages_stored, read after the
// load, must equal ten times the notifications answered 200: every message stored, none skipped.
import { join } from 'node:path';
import { signHubBody } from '../../src/ingest/schemes/hub-signature.ts';
import type { Route, Signed } from './load.ts';
import { measure, rate, type BenchOptions, type Measurement } from './measure.ts';
import { planFor, POOL_SIZE, removeDatabase, signedRequests, WEBHOOK_SECRET } from './requests.ts';
import { syntheticMessage } from '../synthetic-messages.ts';
import { DATA } from './servers.ts';
import { growth, readsCell } from './service-metrics.ts';
import { count, cpuPerCell, formatTable, latencyCells, percent, rssCell, storedCell } from './table.ts';

const APP_SECRET = 'bench-meta-app-secret-0123456789abcdef';
const META_ROUTE: Route = { path: '/webhooks/whatsapp', signatureHeader: 'X-Hub-Signature-256' };
export const MESSAGES_PER_NOTIFICATION = 10;
/** Notifications signed per measurement: ten times the messages of a /webhook body each, so fewer. */
const NOTIFICATIONS = POOL_SIZE / MESSAGES_PER_NOTIFICATION;
/** Meta's test business account and number. */
const BUSINESS = { accountId: '102290129340398', phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881' };
/** 2025-07-01T00:00:00Z in Unix seconds, as Meta writes a timestamp: a string. */
const LIVE_START_SECONDS = Date.UTC(2025, 6, 1) / 1000;

type Row = { name: string; measured: Measurement; messagesPerRequest: number };

export async function runMeta(options: BenchOptions): Promise<string> {
  const singles = await measureRoute(options, 'meta-singles', signedRequests(`meta-singles-${Date.now()}`, POOL_SIZE, false), undefined);
  const batches = await measureRoute(options, 'meta-batches', metaNotifications(`bench${Date.now()}`, NOTIFICATIONS), META_ROUTE);
  return report([
    { name: '/webhook, 1 message a request', measured: singles, messagesPerRequest: 1 },
    { name: `/webhooks/whatsapp, ${MESSAGES_PER_NOTIFICATION} a request`, measured: batches, messagesPerRequest: MESSAGES_PER_NOTIFICATION },
  ]);
}

/** Notifications of 10 text messages each, message ids unique to the run, signed with the app secret. */
export function metaNotifications(prefix: string, notifications: number): Signed[] {
  const plan = planFor(notifications * MESSAGES_PER_NOTIFICATION);
  const signed: Signed[] = [];
  for (let n = 0; n < notifications; n++) {
    const messages = Array.from({ length: MESSAGES_PER_NOTIFICATION }, (_, k) => {
      const i = n * MESSAGES_PER_NOTIFICATION + k;
      const synthetic = syntheticMessage(i, plan);
      return {
        from: synthetic.from.slice(1),
        id: `wamid.${prefix}.${i}`,
        timestamp: String(LIVE_START_SECONDS + i),
        type: 'text',
        // Meta sends no text message without a body: the synthetic ones without text say "ok".
        text: { body: synthetic.text ?? 'ok' },
      };
    });
    const senders = [...new Set(messages.map((message) => message.from))];
    const value = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: BUSINESS.displayPhoneNumber, phone_number_id: BUSINESS.phoneNumberId },
      contacts: senders.map((waId) => ({ profile: { name: `Customer ${waId.slice(-4)}` }, wa_id: waId })),
      messages,
    };
    const body = metaJson({ object: 'whatsapp_business_account', entry: [{ id: BUSINESS.accountId, changes: [{ value, field: 'messages' }] }] });
    signed.push({ body: Buffer.from(body), signature: signHubBody(APP_SECRET, body) });
  }
  return signed;
}

/** JSON as Meta writes it: every code unit beyond ASCII as `\uXXXX`, and `/` as `\/`. */
function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replaceAll('/', '\\/');
}

async function measureRoute(options: BenchOptions, name: string, requests: Signed[], route: Route | undefined): Promise<Measurement> {
  const dbPath = join(DATA, `run-${name}.db`);
  removeDatabase(dbPath);
  const measured = await measure(options, {
    servers: [{ name, env: { WEBHOOK_SECRET, WHATSAPP_APP_SECRETS: APP_SECRET, DATABASE_URL: `sqlite:///${dbPath}` } }],
    requests,
    ...(route === undefined ? {} : { route }),
    service: true,
  });
  removeDatabase(dbPath);
  return measured;
}

function report(rows: Row[]): string {
  const header = ['', 'messages/s', 'req/s', 'p50 ms', 'p99 ms', 'non-200', 'CPU µs/msg', 'peak RSS MB', 'loop p99 ms', 'reads p50/max ms', 'stored', 'skipped'];
  const lines = rows.map(({ name, measured: { load, probes, scrapes, reads }, messagesPerRequest }) => {
    const scrape = scrapes[0];
    const stored = scrape?.after.get('messages_stored');
    const expected = load.answered200 * messagesPerRequest;
    return [
      name + (load.exhausted ? ' (pool used up)' : ''),
      (rate(load) * messagesPerRequest).toFixed(0),
      rate(load).toFixed(0),
      ...latencyCells(load),
      String(load.non200),
      cpuPerCell(probes[0] ?? null, load.requests * messagesPerRequest),
      rssCell(probes[0] ?? null),
      probes[0]?.eventLoopDelayP99Ms.toFixed(2) ?? '?',
      readsCell(reads),
      storedCell(stored, expected, load.unsettled * messagesPerRequest),
      scrape === undefined ? '?' : count(growth(scrape.before, scrape.after, 'webhook_items_skipped_total{source="whatsapp"}')),
    ];
  });
  const [singles, batches] = rows as [Row, Row];
  const messages = (row: Row) => rate(row.measured.load) * row.messagesPerRequest;
  return [
    `meta: WhatsApp notifications of ${MESSAGES_PER_NOTIFICATION} text messages against /webhook singles, each on a fresh database`,
    formatTable(header, lines),
    `stored: messages_stored after the load: the messages of every request answered 200, warm-up included (wrk: up to its connections' more, in flight as it stopped)`,
    `batches vs singles: ${percent(messages(batches), messages(singles))} of the messages/s, ${percent(rate(batches.measured.load), rate(singles.measured.load))} of the requests/s`,
  ].join('\n');
}
