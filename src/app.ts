// The one wiring point: createApp returns a plain (req, res) handler. Every request passes through
// handleRequest, which owns the request id, timing, the single log line and turning errors into
// responses, so no route can forget any of them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config.ts';
import { HttpError } from './http-error.ts';
import type { LogFields, Logger } from './log.ts';
import { createRouter, type Route } from './router.ts';
import type { Store } from './store.ts';
import { healthRoutes } from './health.ts';
import { webhookRoutes } from './webhook.ts';

export type Reply = { status: number; body: unknown; headers?: Record<string, string> };

export type RequestContext = {
  req: IncomingMessage;
  url: URL;
  requestId: string;
  /** Extra fields for this request's log line, filled in by the handler (message_id, result, ...). */
  logFields: LogFields;
};

export type Handler = (ctx: RequestContext) => Promise<Reply>;

export type AppDeps = { config: Config; store: Store; log: Logger };

export type RouteFactory = (deps: AppDeps) => Route<Handler>[];

// Accept a caller's request id only when it is a short token of safe characters; anything else
// could smuggle separators or control characters into logs and headers.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_LOGGED_PATH = 256;

export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = createRouter<Handler>([...healthRoutes(deps), ...webhookRoutes(deps)]);
  const { log } = deps;

  return (req, res) => {
    void handleRequest(req, res);
  };

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && SAFE_REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    // The URL base is fixed: the Host header is client input and plays no part in routing.
    const url = new URL(req.url ?? '/', 'http://service.invalid');
    const ctx: RequestContext = { req, url, requestId, logFields: {} };

    let reply: Reply;
    try {
      const match = route(req.method ?? 'GET', url.pathname);
      if (match.kind === 'not_found') throw new HttpError('not_found');
      if (match.kind === 'method_not_allowed') {
        throw new HttpError('method_not_allowed', { headers: { Allow: match.allow.join(', ') } });
      }
      reply = await match.route.handler(ctx);
    } catch (error) {
      reply = errorReply(error, ctx);
    }

    send(req, res, requestId, reply);
    const status = reply.status;
    log.log(status >= 500 ? 'ERROR' : 'INFO', {
      request_id: requestId,
      method: req.method,
      path: url.pathname.slice(0, MAX_LOGGED_PATH),
      status,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      ...ctx.logFields,
    });
  }

  function errorReply(error: unknown, ctx: RequestContext): Reply {
    if (error instanceof HttpError) {
      return { status: error.status, body: { detail: error.detail }, headers: { ...error.headers } };
    }
    // Unexpected: log what kind of failure it was, never its message (it may hold SQL, paths or
    // data), and answer a generic 500.
    const kind = error instanceof Error ? error.name : typeof error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
    log.log('ERROR', { request_id: ctx.requestId, msg: 'unhandled error', error: kind, code });
    ctx.logFields.result ??= 'error';
    return { status: 500, body: { detail: 'internal error' } };
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(req: IncomingMessage, res: ServerResponse, requestId: string, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(reply.body);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Request-ID': requestId,
    ...reply.headers,
  };
  // A request whose body we refused to read (413, or answered early) cannot be reused safely:
  // close the connection rather than read and discard what may be an unbounded body.
  if (!req.complete && hasBody(req)) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(payload);
}
