// Requests that Node's HTTP parser rejects still get a JSON answer with a request id and exactly
// one log line, never a bare reset.
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

export function handleClientErrors(server: Server, log: Logger): void {
  // The last request parsed on each socket. Requests on one socket are parsed in order, so if it
  // is still incomplete when the parser fails, the failure is inside its body.
  const lastExchange = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => lastExchange.set(req.socket, res));

  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const exchange = lastExchange.get(socket);
    if (exchange !== undefined && !exchange.req.complete) {
      // Already answered (a 413 sent before the rest of the body): one answer per request.
      if (exchange.headersSent) socket.destroySoon();
      else answer(socket, error, 'body_incomplete', String(exchange.getHeader('X-Request-ID')));
      return;
    }
    const code = PARSER_ERRORS[error.code ?? ''] ?? 'bad_request';
    // The request could not be parsed, so no X-Request-ID of the client's can be trusted.
    const requestId = randomUUID();
    answer(socket, error, code, requestId);
    log.log('INFO', { msg: 'client error', request_id: requestId, status: ERRORS[code].status, code: error.code ?? 'unknown' });
  });
}

function answer(socket: Socket, error: Error & { code?: string }, code: ErrorCode, requestId: string): void {
  const { status, detail } = ERRORS[code];
  // ECONNRESET: the client is gone, there is nobody to answer.
  if (error.code !== 'ECONNRESET' && socket.writable && !socket.writableEnded) {
    const body = JSON.stringify({ detail });
    socket.end(
      `HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}
