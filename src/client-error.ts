// Requests that Node's HTTP parser rejects before any route sees them (a malformed request line,
// oversized headers, a header timeout) still get a JSON answer with a request id, and a log line,
// never a bare reset.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { ERRORS, type ErrorCode } from './http-error.ts';
import type { Logger } from './log.ts';

const PARSER_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  ERR_HTTP_HEADERS_TIMEOUT: 'request_timeout',
};

export function createClientErrorHandler(log: Logger): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    const { status, detail } = ERRORS[PARSER_ERRORS[error.code ?? ''] ?? 'bad_request'];
    // The request could not be parsed, so no X-Request-ID of the client's can be trusted.
    const requestId = randomUUID();
    // ECONNRESET: the client is gone, there is nobody to answer.
    if (error.code !== 'ECONNRESET' && socket.writable) {
      const body = JSON.stringify({ detail });
      socket.end(
        `HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
    log.log('INFO', { msg: 'client error', request_id: requestId, status, code: error.code ?? 'unknown' });
  };
}
