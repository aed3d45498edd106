// The one wiring point: createApp returns a plain (req, res) handler. Every request passes through
// handleRequest, which owns the request id, timing, the single log line, the request metrics and
// turning errors into responses, so no route can forget any of them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from './config.ts';
import { ANSWER_HEADERS, ERRORS, HttpError } from './http-error.ts';
import type { LogFields, Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { createRequestMetrics, UNMATCHED_PATH } from './request-metrics.ts';
import { createRouter, type Route } from './router.ts';
import type { Store } from './store.ts';
import { registerStoreMetrics } from './store-metrics.ts';
import { healthRoutes } from './health.ts';
import { messageRoutes } from './messages.ts';
import { metricsRoutes } from './metrics-endpoint.ts';
import { statsRoutes } from './stats.ts';
import { WEBHOOK_PATH, webhookRoutes } from './webhook.ts';

export type Reply = { status: number; headers?: Record<string, string> } & (
  | { body: unknown }
  /** A non-JSON answer, sent as is (the metrics exposition). */
  | { text: string; contentType: string }
);

export type RequestContext = {
  req: IncomingMessage;
  url: URL;
  requestId: string;
  /** Extra fields for this request's log line, filled in by the handler (message_id, result, ...). */
  logFields: LogFields;
  /**
   * Invites the body of a client that sent `Expect: 100-continue` (a no-op for any other). A
   * handler calls it (through readBody) only once the request has passed every check that needs no
   * body, so a request refused anyway is never asked to upload first.
   */
  inviteBody: () => void;
};

export type Handler = (ctx: RequestContext) => Promise<Reply>;

export type AppDeps = {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /**
   * Requests whose body Node's HTTP parser rejected (client-error.ts has already answered them
   * 400): their log line and metrics say so, whatever the route would have answered.
   */
  rejectedBodies?: WeakSet<IncomingMessage>;
};

// Accept a caller's request id only when it is a short token of safe characters; anything else
// could smuggle separators or control characters into logs and headers.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_LOGGED_PATH = 256;
/** Most requests waiting or being answered on one connection (see createApp). */
const MAX_PIPELINED = 16;
const ORIGIN = 'http://service.invalid';

export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = createRouter<Handler>([
    ...healthRoutes(deps),
    ...webhookRoutes(deps),
    ...messageRoutes(deps),
    ...statsRoutes(deps),
    ...metricsRoutes(deps),
  ]);
  const { log } = deps;
  const recordRequest = createRequestMetrics(deps.metrics);
  registerStoreMetrics(deps.metrics, deps.store);

  // One request at a time on each connection: a request pipelined behind another is handled once
  // the answer before it has been handed to the OS, so a client that stops reading holds at most
  // one built answer. And at most MAX_PIPELINED requests wait on one connection: Node parses every
  // request in a socket read at once (a 64 KB read holds over a thousand small GETs), and each
  // waiting request costs a few kilobytes of heap, so a client that pipelines without reading
  // past that is disconnected, and what it had already sent is dropped unhandled.
  const answering = new WeakMap<Socket, { last: Promise<void>; waiting: number }>();

  return (req, res) => {
    const { socket } = req;
    // An earlier answer closed the connection (a 413 or 415 whose body was not read) or the client
    // left: this request could never be answered, so it is not carried out.
    if (socket.destroyed || socket.writableEnded) return;
    const connection = answering.get(socket) ?? { last: Promise.resolve(), waiting: 0 };
    if (connection.waiting >= MAX_PIPELINED) {
      log.log('WARN', { msg: 'connection dropped: too many pipelined requests', limit: MAX_PIPELINED });
      socket.destroy();
      return;
    }
    const before = connection.waiting === 0 ? undefined : connection.last;
    connection.waiting++;
    connection.last = new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
    answering.set(socket, connection);
    void connection.last.then(() => connection.waiting--);
    handleRequest(req, res, before).catch((error: unknown) => {
      // Last resort, so that a failure while answering cannot take the process down with it.
      log.log('ERROR', { msg: 'request failed while answering', error: error instanceof Error ? error.name : typeof error });
      res.destroy();
    });
  };

  /** `before` settles once the previous request on the connection has been answered. */
  async function handleRequest(req: IncomingMessage, res: ServerResponse, before: Promise<void> | undefined): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && SAFE_REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const { path, url } = requestTarget(req.url);
    // Set before anything can fail, so an answer written for this request outside this handler
    // (client-error.ts, when the parser rejects its body) carries the id its log line has.
    res.setHeader('X-Request-ID', requestId);
    // Its body rejected by the parser while it waited its turn: client-error.ts has answered it,
    // and it is logged below as that answer, without running its handler.
    const rejectedMeanwhile = () => deps.rejectedBodies?.has(req) === true;
    if (before !== undefined) {
      await before;
      // The connection ended while this request waited its turn (the client left, or the answer
      // before it closed the connection): nothing could be answered, so nothing is done.
      if ((req.socket.destroyed || req.socket.writableEnded) && !rejectedMeanwhile()) return;
    }
    let awaitsContinue = false;
    const inviteBody = () => {
      if (awaitsContinue) res.writeContinue();
      awaitsContinue = false;
    };
    const ctx: RequestContext = { req, url, requestId, logFields: {}, inviteBody };
    const method = req.method ?? 'GET';
    // Metrics are labelled by route pattern, never by the raw path, so their cardinality is bounded.
    let routePath = UNMATCHED_PATH;

    let reply: Reply;
    try {
      assertHost(req);
      awaitsContinue = awaitsContinueFor(req);
      const match = route(method, path);
      if (match.kind === 'not_found') throw new HttpError('not_found');
      if (match.kind === 'method_not_allowed') {
        routePath = match.path;
        throw new HttpError('method_not_allowed', { headers: { Allow: match.allow.join(', ') } });
      }
      routePath = match.route.path;
      if (rejectedMeanwhile()) throw new HttpError('body_incomplete');
      reply = await match.route.handler(ctx);
    } catch (error) {
      reply = errorReply(error, ctx);
    }

    if (deps.rejectedBodies?.has(req) === true) {
      reply = errorReply(new HttpError('body_incomplete'), ctx);
      if (routePath === WEBHOOK_PATH) ctx.logFields.result = 'body_incomplete';
    } else {
      send(req, res, reply);
    }
    const latencyMs = performance.now() - started;
    const { status } = reply;
    const result = ctx.logFields.result;
    recordRequest({
      method,
      path: routePath,
      status,
      latencyMs,
      webhookResult: routePath === WEBHOOK_PATH && method === 'POST' ? String(result ?? 'error') : undefined,
    });
    // The path is logged without its query string: query values may carry personal data.
    log.log(status >= 500 ? 'ERROR' : 'INFO', {
      request_id: requestId,
      method,
      path: path.slice(0, MAX_LOGGED_PATH),
      status,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
      ...ctx.logFields,
    });
  }

  function errorReply(error: unknown, ctx: RequestContext): Reply {
    if (error instanceof HttpError) {
      return { status: error.status, body: { detail: error.detail }, headers: { ...error.headers } };
    }
    // Unexpected: the request's log line says what kind of failure it was, never its message (it
    // may hold SQL, paths or data), and the client gets a generic 500.
    ctx.logFields.error = error instanceof Error ? error.name : typeof error;
    if (error instanceof Error && 'code' in error) ctx.logFields.code = String(error.code);
    ctx.logFields.result ??= 'error';
    return { status: ERRORS.internal_error.status, body: { detail: ERRORS.internal_error.detail } };
  }
}

/**
 * Only the path and query of the request target matter, and the Host header is client input that
 * plays no part in routing. The target is read as a path: of an absolute URL (`http://host/path`,
 * which RFC 9112 3.2.2 says a server must accept), its path; anything else (`*`, `//x`) becomes a
 * path no route has. The path is taken exactly as sent: a URL parser would resolve `/x/../`,
 * `%2e%2e` and `\`, so `/x/%2e%2e/metrics` would reach /metrics past a proxy rule that blocks
 * `/metrics` by its raw path. Only the query is parsed, with a fixed origin, so nothing can throw
 * or choose another host.
 */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*(.*)$/i;

function requestTarget(target = '/'): { path: string; url: URL } {
  const afterAuthority = ABSOLUTE_FORM.exec(target)?.[1];
  const relative = afterAuthority ?? target;
  const asPath = relative.startsWith('/') ? relative : `/${relative}`;
  const end = asPath.search(/[?#]/);
  return { path: end === -1 ? asPath : asPath.slice(0, end), url: new URL(`${ORIGIN}${asPath}`) };
}

/**
 * HTTP/1.1 requires exactly one Host header (RFC 9112, 3.2). Node's own check would answer with a
 * bare 400 of its own, without JSON, request id or log line, so it is turned off (server.ts) and
 * done here. The value itself plays no part in routing.
 */
function assertHost(req: IncomingMessage): void {
  // headersDistinct keeps every Host line; req.headers keeps only the first.
  if (req.httpVersion === '1.1' && req.headersDistinct.host?.length !== 1) throw new HttpError('bad_request');
}

/**
 * 100-continue is the only expectation HTTP defines. Every request with an Expect header comes here
 * (server.ts routes Node's 'checkContinue' and 'checkExpectation' to the app): any other
 * expectation, alone or in a list, is a 417 before anything else. True when the client waits for
 * `100 Continue` before its body; ctx.inviteBody sends it once a handler is about to read the body,
 * so a request refused without its body (404, 413, 415, ...) gets that answer instead.
 */
function awaitsContinueFor(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  if (expect === undefined) return false;
  const expectations = expect.split(',').map((item) => item.trim().toLowerCase());
  if (!expectations.every((item) => item === '100-continue')) throw new HttpError('expectation_failed');
  // An HTTP/1.0 client does not know interim answers: it would take the 100 as the final one, so
  // the expectation is ignored there (RFC 9110, 10.1.1).
  return req.httpVersion !== '1.0';
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const [payload, contentType] = 'text' in reply ? [reply.text, reply.contentType] : [JSON.stringify(reply.body), 'application/json'];
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(payload),
    ...ANSWER_HEADERS,
    ...reply.headers,
  };
  // A request whose body we refused to read (413, or answered early) cannot be reused safely:
  // close the connection rather than read and discard what may be an unbounded body.
  if (!req.complete && hasBody(req)) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(payload);
}
