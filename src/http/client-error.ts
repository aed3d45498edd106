// Requests that Node's HTTP parser rejects, and CONNECT requests (this is not a proxy), still get a
// JSON answer with a request id and exactly one log line, never a bare reset.
// - Before a request exists (a malformed request line, oversized headers, a header timeout): the
//   answer and a `client error` log line are written here.
// - In the middle of a request's body (the client closed its side early, sent a malformed chunk,
//   or took longer than the request timeout): that request is already being handled, and will log
//   its own line (body_incomplete). Only the answer is written here, the same 400 its handler would
//   give, under its request id.
// Answers on one connection go out in request order: an answer written here waits until every
// earlier request on the connection has had its own, and then the connection closes.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../observability/log.ts';
import type { ConnectionTracker } from './connection-tracker.ts';
import { ANSWER_HEADERS, ERRORS, type ErrorCode } from './http-error.ts';

const PARSER_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  ERR_HTTP_HEADERS_TIMEOUT: 'request_timeout',
};

const ANSWER_HEAD_LINES = Object.entries(ANSWER_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');

/** System error codes, as a socket reports them; the parser's are HPE_* and ERR_HTTP_*. */
const SOCKET_ERROR = /^E[A-Z]+$/;

/**
 * `connections` is the tracker the dispatcher registers every request with (http-server.ts gives
 * both the same one): a request whose body is rejected here is marked in it, and its own log line
 * records this answer.
 */
export function handleClientErrors(server: Server, log: Logger, connections: ConnectionTracker): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    // A socket error (ECONNRESET, EPIPE, ...) rather than a parser's: the client is gone, nobody
    // is left to answer, and a request in progress logs its own line.
    if (SOCKET_ERROR.test(error.code ?? '')) {
      socket.destroy();
      return;
    }
    // One failure on a connection is answered, whatever follows it is not.
    if (!connections.firstParserFailure(socket)) return;
    // Bytes after a request that asked to close the connection are not a request: its answer
    // (and any before it) goes out, then the connection closes.
    if (error.code === 'HPE_CLOSED_CONNECTION') {
      connections.afterEarlierAnswers(socket, 0, () => socket.destroySoon());
      return;
    }
    // Requests on one connection are parsed in order, so if the last is still incomplete when the
    // parser fails, the failure is inside its body.
    const exchange = connections.lastResponse(socket);
    if (exchange !== undefined && !exchange.req.complete) {
      // Already answered (a 413 sent before the rest of the body): one answer per request. The
      // connection closes once that answer and every one before it are out.
      if (exchange.headersSent) {
        connections.afterEarlierAnswers(socket, 0, () => socket.destroySoon());
        return;
      }
      connections.rejectBody(exchange.req);
      const requestId = String(exchange.getHeader('X-Request-ID'));
      connections.afterEarlierAnswers(socket, 1, () => answer(socket, 'body_incomplete', requestId));
      return;
    }
    answerAndLog(socket, PARSER_ERRORS[error.code ?? ''] ?? 'bad_request', error.code ?? 'unknown');
  });

  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    // Node has taken its own listeners off this socket, 'error' included: without one, a reset
    // from the client while the answer is written would be an uncaught exception.
    socket.on('error', () => socket.destroy());
    answerAndLog(socket, 'bad_request', 'CONNECT');
  });

  function answerAndLog(socket: Socket, code: ErrorCode, cause: string): void {
    // The request could not be parsed, so no X-Request-ID of the client's can be trusted.
    const requestId = randomUUID();
    connections.afterEarlierAnswers(socket, 0, () => answer(socket, code, requestId));
    log.log('INFO', { msg: 'client error', request_id: requestId, status: ERRORS[code].status, code: cause });
  }
}

function answer(socket: Socket, code: ErrorCode, requestId: string): void {
  const { status, detail } = ERRORS[code];
  if (socket.writable && !socket.writableEnded) {
    const body = JSON.stringify({ detail });
    socket.end(
      `HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        ANSWER_HEAD_LINES +
        `X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}
