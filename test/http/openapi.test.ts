// /openapi.json against the code: a test that walks the route table fails when a route, a status a
// route answers, or a query parameter is missing from the document, and every real answer below is
// checked against the schema the document gives for it.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { createApp, type AppHandlers } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createConnectionTracker } from '../../src/http/connection-tracker.ts';
import { createHttpServer } from '../../src/http/http-server.ts';
import { signStandardWebhook, parseStandardWebhooksSecret } from '../../src/ingest/schemes/standard-webhooks.ts';
import { createLogger } from '../../src/observability/log.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { MESSAGE_QUERY_PARAMETERS } from '../../src/read/query.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { schemaErrors, type Schema } from '../support/json-schema.ts';
import { message, SECRET } from '../support/service.ts';
import { tempDir } from '../support/temp-dir.ts';
import { messagesNotification, signedWhatsApp, textMessage } from '../support/whatsapp-payloads.ts';

const READ = 'read-token-aaaaaaaaaaaaaaaaaaaaaaaa';
const ADMIN = 'admin-token-bbbbbbbbbbbbbbbbbbbbbbb';
const METRICS = 'metrics-token-cccccccccccccccccccc';
const APP_SECRET = 'meta-app-secret-0123456789abcdef';
const VERIFY = 'verify-token-0123456789';
const STANDARD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

type Answer = { status: number; contentType: string; body: string };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
type Operation = { parameters: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: Schema }> }> };

/** Every source configured and every guard on, so every route and status of the API exists. */
async function startApp(t: TestContext): Promise<{ port: number; handlers: AppHandlers }> {
  const dir = tempDir(t, 'openapi-');
  const loaded = loadConfig({
    WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${dir}/app.db`, MAX_BODY_BYTES: '4096',
    WHATSAPP_APP_SECRETS: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY, STANDARD_WEBHOOKS_SECRETS: STANDARD,
    READ_TOKENS: READ, ADMIN_TOKENS: ADMIN, METRICS_TOKEN: METRICS, ALLOWED_HOSTS: '127.0.0.1',
  });
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  const config = loaded.value;
  const metrics = createMetrics();
  const store = await openSqliteStore({ path: `${dir}/app.db`, queueLimit: 100, metrics });
  const log = createLogger({ level: 'ERROR', write: () => {} });
  const connections = createConnectionTracker();
  const handlers = createApp({ config, store, log, metrics, connections });
  const server = createHttpServer(handlers.handler, { log, onDrop: () => {}, connections, maxConnections: 64 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    handlers.closeStreams();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.lifecycle.close();
  });
  return { port: (server.address() as { port: number }).port, handlers };
}

/** One request with full control of the headers (Host included); a stream is read until its first event. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { Host: '127.0.0.1', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: text });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const json = { 'Content-Type': 'application/json' };
const signed = (raw: string) => ({ ...json, 'X-Signature': createHmac('sha256', SECRET).update(raw).digest('hex') });

test('/openapi.json documents every route of the table, every status its routes answer, with answers that match its schemas', async (t) => {
  const { port, handlers } = await startApp(t);
  const fetched = await send(port, 'GET', '/openapi.json');
  assert.equal(fetched.status, 200);
  const document = JSON.parse(fetched.body) as Document;
  assert.equal(document.openapi, '3.1.0');

  await t.test('every route of both listeners is in the document, with its method', () => {
    for (const route of handlers.routes.public) {
      assert.ok(route.doc, `${route.method} ${route.path} has a doc`);
      assert.ok(document.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path} is documented`);
    }
  });

  await t.test('every parameter /messages reads is documented, and each one really is read (a bad value is a 422 on it)', async () => {
    const documented = document.paths['/messages']?.get?.parameters.map((parameter) => parameter.name) ?? [];
    for (const parameter of MESSAGE_QUERY_PARAMETERS) assert.ok(documented.includes(parameter.name), parameter.name);
    for (const name of ['limit', 'offset', 'since', 'cursor']) {
      const answer = await send(port, 'GET', `/messages?${name}=not-valid`, bearer(READ));
      assert.equal(answer.status, 422, name);
      assert.deepEqual((JSON.parse(answer.body) as { detail: { loc: string[] }[] }).detail.map((issue) => issue.loc), [['query', name]]);
    }
  });

  const standardHeaders = (raw: string, timestamp: number) => ({
    ...json,
    ...signStandardWebhook({ secret: parseStandardWebhooksSecret(STANDARD)!, id: `msg_${timestamp}`, timestamp, body: raw }),
  });
  const raw = JSON.stringify(message('doc-1'));
  const whatsapp = signedWhatsApp(messagesNotification(textMessage('documented', 'wamid.doc-2')), APP_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string, string, Record<string, string>, string | undefined, number][] = [
    ['GET', '/openapi.json', '/openapi.json', {}, undefined, 200],
    ['GET', '/health/live', '/health/live', {}, undefined, 200],
    ['GET', '/health/ready', '/health/ready', {}, undefined, 200],
    ['GET', '/health/live', '/health/live', { Expect: 'later' }, undefined, 417],
    ['POST', '/webhook', '/webhook', signed(raw), raw, 200],
    ['POST', '/webhook', '/webhook', { ...json, 'X-Signature': '0'.repeat(64) }, raw, 401],
    ['POST', '/webhook', '/webhook', signed('x'.repeat(5000)), 'x'.repeat(5000), 413],
    ['POST', '/webhook', '/webhook', { 'Content-Type': 'text/plain' }, raw, 415],
    ['POST', '/webhook', '/webhook', signed('{"message_id":1}'), '{"message_id":1}', 422],
    ['POST', '/webhook', '/webhook', { ...signed(raw), Host: 'elsewhere.example' }, raw, 421],
    ['POST', '/webhooks/whatsapp', '/webhooks/whatsapp', whatsapp.headers, whatsapp.body, 200],
    ['POST', '/webhooks/whatsapp', '/webhooks/whatsapp', json, whatsapp.body, 401],
    ['POST', '/webhooks/whatsapp', '/webhooks/whatsapp', { ...json, 'X-Hub-Signature-256': `sha256=${createHmac('sha256', APP_SECRET).update('[]').digest('hex')}` }, '[]', 422],
    ['GET', '/webhooks/whatsapp', `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`, {}, undefined, 200],
    ['GET', '/webhooks/whatsapp', `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`, {}, undefined, 403],
    ['POST', '/webhooks/standard', '/webhooks/standard', standardHeaders(JSON.stringify(message('doc-3')), now), JSON.stringify(message('doc-3')), 200],
    ['POST', '/webhooks/standard', '/webhooks/standard', standardHeaders(raw, now - 3600), raw, 401],
    ['POST', '/webhooks/standard', '/webhooks/standard', standardHeaders('{}', now), '{}', 422],
    ['GET', '/messages', '/messages?limit=2', bearer(READ), undefined, 200],
    ['GET', '/messages', '/messages', {}, undefined, 401],
    ['GET', '/messages', '/messages?limit=500', bearer(READ), undefined, 422],
    ['GET', '/stats', '/stats', bearer(READ), undefined, 200],
    ['GET', '/stats', '/stats', bearer(ADMIN), undefined, 401],
    ['GET', '/messages/stream', '/messages/stream', bearer(READ), undefined, 200],
    ['GET', '/messages/stream', '/messages/stream?after=bm90LWEtcG9zaXRpb24', bearer(READ), undefined, 422],
    ['DELETE', '/messages/{message_id}', '/messages/doc-1', bearer(ADMIN), undefined, 200],
    ['DELETE', '/messages/{message_id}', '/messages/doc-1', bearer(READ), undefined, 401],
    ['DELETE', '/messages/{message_id}', '/messages/%E0%A4%A', bearer(ADMIN), undefined, 422],
    ['DELETE', '/messages', `/messages?from=${encodeURIComponent('+919876543210')}`, bearer(ADMIN), undefined, 200],
    ['DELETE', '/messages', '/messages', bearer(ADMIN), undefined, 422],
    ['GET', '/metrics', '/metrics', bearer(METRICS), undefined, 200],
    ['GET', '/metrics', '/metrics', {}, undefined, 401],
  ];
  for (const [method, template, target, headers, body, expected] of cases) {
    await t.test(`${method} ${target} answers ${expected}, as the document says, in the documented shape`, async () => {
      const answer = await send(port, method, target, headers, body);
      assert.equal(answer.status, expected);
      const response = document.paths[template]?.[method.toLowerCase()]?.responses[String(expected)];
      assert.ok(response, `${method} ${template} documents ${expected}`);
      const mediaType = answer.contentType.split(';')[0] ?? '';
      const content = response.content?.[mediaType] ?? Object.values(response.content ?? {})[0];
      assert.ok(content, `${method} ${template} ${expected} documents its body`);
      if (mediaType === 'application/json') {
        assert.deepEqual(schemaErrors(JSON.parse(answer.body), content.schema, document.components.schemas), []);
      }
    });
  }
});

test('the document is valid JSON whose every $ref names a schema it holds', async (t) => {
  const { port } = await startApp(t);
  const text = (await send(port, 'GET', '/openapi.json')).body;
  const document = JSON.parse(text) as Document;
  for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) {
    assert.ok(document.components.schemas[name as string], `${name} is defined`);
  }
});
