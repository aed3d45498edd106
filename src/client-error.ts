// Requests that Node's HTTP parser rejects, and CONNECT requests (this is not a proxy), still get a
// JSON answer with a request id and exactly one log line, never a bare reset.
// - Before a request exists (a malformed request line, oversized headers, a header timeout): the
//   answer and a `client error` log line are written here.
// - In the middle of a request's body (the client closed its side early, sent a malformed chunk,
//   or took longer than the request timeout): that request is already being handled, and will log
//   its own line with result body_incomplete once its body ends early. Only the answer is written
//   here, the same 400 its handler would give, under its request id.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS, type ErrorCode } from './http-error.ts';
import type { Logger } from './log.ts';

const PARSER_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  ERR_HTTP_HEADERS_TIMEOUT: 'request_timeout',
};

type Exchanges = { last: ServerResponse; unanswered: number };

/**
 * `rejectedBodies` is shared with the app (server.ts passes it to both): a request added to it has
 * been answered here, and its own log line records that answer.
 */
export function handleClientErrors(server: Server, log: Logger, rejectedBodies: WeakSet<IncomingMessage>): void {
  // Per socket: the last request parsed, and how many of its requests still await their answer.
  // Requests on one socket are parsed in order, so if the last is still incomplete when the parser
  // fails, the failure is inside its body.
  const exchanges = new WeakMap<Socket, Exchanges>();
  const track = (req: IncomingMessage, res: ServerResponse) => {
    const state = exchanges.get(req.socket) ?? { last: res, unanswered: 0 };
    state.last = res;
    state.unanswered++;
    exchanges.set(req.socket, state);
    res.once('close', () => state.unanswered--);
  };
  server.on('request', track);
  server.on('checkExpectation', track);

  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const state = exchanges.get(socket);
    if (state !== undefined && !state.last.req.complete) {
      // One answer per request, in order: not when it has already been answered (a 413 sent
      // before the rest of the body), nor ahead of an earlier request's answer on a pipelined
      // connection. Then the connection just closes.
      if (state.last.headersSent || state.unanswered > 1 || error.code === 'ECONNRESET') {
        socket.destroySoon();
      } else {
        rejectedBodies.add(state.last.req);
        answer(socket, 'body_incomplete', String(state.last.getHeader('X-Request-ID')));
      }
      return;
    }
    answerAndLog(socket, PARSER_ERRORS[error.code ?? ''] ?? 'bad_request', error.code ?? 'unknown');
  });

  // This is not a proxy. Without a listener Node would drop the connection without a word. Node
  // has taken its own listeners off this socket, 'error' included: without one, a reset from the
  // client while the answer is written would be an uncaught exception.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    answerAndLog(socket, 'bad_request', 'CONNECT');
  });

  function answerAndLog(socket: Socket, code: ErrorCode, cause: string): void {
    // The request could not be parsed, so no X-Request-ID of the client's can be trusted.
    const requestId = randomUUID();
    const unanswered = exchanges.get(socket)?.unanswered ?? 0;
    // ECONNRESET: the client is gone, there is nobody to answer. Unanswered requests before this
    // one on a pipelined connection: an answer now would be taken for theirs, so just close.
    if (cause === 'ECONNRESET' || unanswered > 0) socket.destroy();
    else answer(socket, code, requestId);
    log.log('INFO', { msg: 'client error', request_id: requestId, status: ERRORS[code].status, code: cause });
  }
}

function answer(socket: Socket, code: ErrorCode, requestId: string): void {
  const { status, detail } = ERRORS[code];
  if (socket.writable && !socket.writableEnded) {
    const body = JSON.stringify({ detail });
    socket.end(
      `HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}
