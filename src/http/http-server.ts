// The HTTP server with every option the service relies on, in one place: the entry point and the
// in-process tests both build theirs here, so a test exercises the same hardening as production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../observability/log.ts';
import { handleClientErrors } from './client-error.ts';
import type { ConnectionTracker } from './connection-tracker.ts';

export type HttpServerOptions = {
  log: Logger;
  /** Called for each connection closed on arrival because maxConnections were open (for a counter). */
  onDrop: () => void;
  /** The tracker the handler's dispatcher registers requests with (client errors answer in turn). */
  connections: ConnectionTracker;
  /** Most open client connections; more are closed as they arrive. */
  maxConnections: number;
};

export function createHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  { log, onDrop, connections, maxConnections }: HttpServerOptions,
): Server {
  const server = createServer(
    {
      // Bound what a client can make us hold: header bytes (slow or huge headers), the time to send
      // headers and a whole request (slowloris). Idle keep-alive sockets outlive the common 60 s
      // load-balancer idle timeout, so a proxy never reuses a socket we are just closing.
      maxHeaderSize: 16 * 1024,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      // Node checks the two timeouts above on this interval (30 s by default, which would make them
      // 10 to 40 s and 30 to 60 s); every second keeps them within a second of what they say.
      connectionsCheckingInterval: 1_000,
      // The dispatcher checks Host itself, so a request without one gets a JSON 400 and a log line.
      requireHostHeader: false,
    },
    handler,
  );
  // Every request with an Expect header goes to the handler, which decides on 100 Continue or a
  // JSON 417 (Node would answer 100 Continue to a list that merely contains it, and a bare 417
  // otherwise).
  server.on('checkContinue', handler);
  server.on('checkExpectation', handler);
  // A client that half-closes after its request still gets the answer; Node's default ends the
  // socket at once, dropping the answer to a request it has already handed over.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  handleClientErrors(server, log, connections);
  // Each open connection costs memory (kilobytes idle, more while it sends), and an idle keep-alive
  // one lives 65 s: without a cap, thousands of idle clients alone could pass the container's memory
  // limit. Past the cap Node closes a new connection as it arrives; the drops are counted.
  server.maxConnections = maxConnections;
  // A connection with no traffic either way for 2 minutes is closed (Node destroys it on 'timeout'
  // when nothing else listens): a client that stops reading its answers cannot hold one, and the
  // memory behind it, for good. Longer than the 65 s keep-alive, which closes idle ones first.
  server.timeout = 120_000;
  server.on('drop', onDrop);
  // Node's own default (2,000) would let one request make us build a header table that large; a
  // webhook sends a handful, and more than 100 lines is refused with a 431 (client-error.ts).
  server.maxHeadersCount = 100;
  return server;
}
