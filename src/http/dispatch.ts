// Every request passes through the dispatcher, which owns the request id, timing, the single log line,
// the request metrics and turning errors into responses, so no route can forget any of them. It
// knows no route by name: a route that records outcomes of its own does so in its onAnswered.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/log.ts';
import { UNMATCHED_PATH, type RequestObservation } from '../observability/request-metrics.ts';
import type { AnswerBudget } from './answer-budget.ts';
import type { ConnectionTracker } from './connection-tracker.ts';
import { ANSWER_HEADERS, ERRORS, HttpError, type ErrorCode } from './http-error.ts';
import { assertHost, awaitsContinue, hasBody } from './request-head.ts';
import { requestTarget } from './request-target.ts';
import type { Reply, RequestContext, Route } from './route.ts';
import { createRouter } from './router.ts';

export type DispatchDeps = {
  routes: readonly Route[];
  log: Logger;
  recordRequest: (observation: RequestObservation) => void;
  connections: ConnectionTracker;
  /** The budget every answer is charged to until its client has taken it. */
  answers: AnswerBudget;
};

// A caller's request id is logged (as client_request_id) only when it is a short token of safe
// characters; anything else could smuggle separators or control characters into the log.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_LOGGED_PATH = 256;
/** Most requests waiting or being answered on one connection. */
const MAX_PIPELINED = 16;

export function createDispatcher({ routes, log, recordRequest, connections, answers }: DispatchDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = createRouter(routes);

  // One request at a time on each connection: a request pipelined behind another is handled once
  // the answer before it has been handed to the OS, so a client that stops reading holds at most
  // one built answer. And at most MAX_PIPELINED requests wait on one connection: Node parses every
  // request in a socket read at once (a 64 KB read holds over a thousand small GETs), and each
  // waiting request costs a few kilobytes of heap, so a client that pipelines without reading
  // past that is disconnected, and what it had already sent is dropped unhandled.
  return (req, res) => {
    const { socket } = req;
    const { before, waitingBefore } = connections.admit(req, res);
    // An earlier answer closed the connection (a 413 or 415 whose body was not read) or the client
    // left: this request could never be answered, so it is not carried out.
    if (socket.destroyed || socket.writableEnded) return;
    if (waitingBefore >= MAX_PIPELINED) {
      log.log('WARN', { msg: 'connection dropped: too many pipelined requests', limit: MAX_PIPELINED });
      socket.destroy();
      return;
    }
    handleRequest(req, res, before).catch((error: unknown) => {
      // Last resort, so that a failure while answering cannot take the process down with it.
      log.log('ERROR', { msg: 'request failed while answering', error: error instanceof Error ? error.name : typeof error });
      res.destroy();
    });
  };

  /** `before` settles once the previous request on the connection has been answered. */
  async function handleRequest(req: IncomingMessage, res: ServerResponse, before: Promise<void> | undefined): Promise<void> {
    const started = performance.now();
    // The service's own id, always: a caller's id could be forged to collide with another
    // request's in the logs. The caller's, when sane, is logged beside it.
    const requestId = randomUUID();
    const incomingId = req.headers['x-request-id'];
    const clientRequestId = typeof incomingId === 'string' && SAFE_REQUEST_ID.test(incomingId) ? incomingId : undefined;
    const { path, url } = requestTarget(req.url);
    // Set before anything can fail, so an answer written for this request outside this handler
    // (client-error.ts, when the parser rejects its body) carries the id its log line has.
    res.setHeader('X-Request-ID', requestId);
    // Its body rejected by the parser while it waited its turn: client-error.ts has answered it,
    // and it is logged below as that answer, without running its handler.
    const bodyRejected = () => connections.isBodyRejected(req);
    if (before !== undefined) {
      await before;
      // The connection ended while this request waited its turn (the client left, or the answer
      // before it closed the connection): nothing could be answered, so nothing is done.
      if ((req.socket.destroyed || req.socket.writableEnded) && !bodyRejected()) return;
    }
    let continueAwaited = false;
    const inviteBody = () => {
      if (continueAwaited) res.writeContinue();
      continueAwaited = false;
    };
    const ctx: RequestContext = { req, res, url, requestId, params: {}, logFields: {}, inviteBody };
    const method = req.method ?? 'GET';
    // Metrics are labelled by route pattern, never by the raw path, so their cardinality is bounded.
    let routePath = UNMATCHED_PATH;
    let matched: Route | undefined;

    let reply: Reply;
    let errorCode: ErrorCode | null = null;
    try {
      // A fragment is not part of a request target (RFC 9112 3.2); a client that sends one is
      // broken or probing, and `GET /metrics#x` must not reach /metrics.
      if (req.url?.includes('#') === true) throw new HttpError('bad_request');
      assertHost(req);
      continueAwaited = awaitsContinue(req);
      const match = route(method, path);
      if (match.kind === 'not_found') throw new HttpError('not_found');
      if (match.kind === 'method_not_allowed') {
        routePath = match.path;
        throw new HttpError('method_not_allowed', { headers: { Allow: match.allow.join(', ') } });
      }
      routePath = match.route.path;
      matched = match.route;
      ctx.params = match.params;
      if (bodyRejected()) throw new HttpError('body_incomplete');
      reply = await match.route.handler(ctx);
    } catch (error) {
      errorCode = error instanceof HttpError ? error.code : 'internal_error';
      reply = errorReply(error, ctx);
    }

    if (bodyRejected()) {
      // client-error.ts has answered this request 400: that is the answer to log and count.
      errorCode = 'body_incomplete';
      reply = errorReply(new HttpError(errorCode), ctx);
    } else if (!send(req, res, reply, answers)) {
      // Too many bytes of answers wait for their clients already: this one would add to them.
      errorCode = 'unavailable';
      ctx.logFields.reason = 'answer_budget';
      reply = errorReply(new HttpError(errorCode), ctx);
      send(req, res, reply, answers);
    }
    const latencyMs = performance.now() - started;
    const { status } = reply;
    matched?.onAnswered?.({ ctx, status, errorCode });
    recordRequest({ method, path: routePath, status, latencyMs });
    // The path is logged without its query string: query values may carry personal data.
    log.log(status >= 500 ? 'ERROR' : 'INFO', {
      request_id: requestId,
      client_request_id: clientRequestId,
      method,
      path: path.slice(0, MAX_LOGGED_PATH),
      status,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
      ...ctx.logFields,
    });
  }
}

/** The one place an error becomes an answer. */
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

/** Writes the answer; false, writing nothing, when it does not fit the answer budget. */
function send(req: IncomingMessage, res: ServerResponse, reply: Reply, answers: AnswerBudget): boolean {
  // A stream's handler wrote its answer itself.
  if ('streamed' in reply) return true;
  if (res.headersSent) {
    res.destroy();
    return true;
  }
  const [payload, contentType] = 'text' in reply ? [reply.text, reply.contentType] : [JSON.stringify(reply.body), 'application/json'];
  const bytes = Buffer.byteLength(payload);
  if (!answers.charge(res, bytes)) return false;
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': bytes,
    ...ANSWER_HEADERS,
    ...reply.headers,
  };
  // A request whose body we refused to read (413, or answered early) cannot be reused safely:
  // close the connection rather than read and discard what may be an unbounded body.
  if (!req.complete && hasBody(req)) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(payload);
  return true;
}
