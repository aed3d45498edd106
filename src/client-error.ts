// Requests that Node's HTTP parser rejects before any route sees them (a malformed request line,
// oversized headers, a header timeout) still get a JSON answer and a log line, never a bare reset.
import type { Socket } from 'node:net';
import type { Logger } from './log.ts';

const PARSER_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request timeout'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'request timeout'],
};

export function createClientErrorHandler(log: Logger): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    const [status, detail] = PARSER_STATUS[error.code ?? ''] ?? [400, 'bad request'];
    // ECONNRESET: the client is gone, there is nobody to answer.
    if (error.code !== 'ECONNRESET' && socket.writable) {
      const body = JSON.stringify({ detail });
      socket.end(
        `HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
    log.log('INFO', { msg: 'client error', status, code: error.code ?? 'unknown' });
  };
}
