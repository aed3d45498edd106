// The service's entry point: the only module that opens the database, listens and handles
// signals, and with healthcheck.ts (the container probe's entry point) the only one that reads
// process.env. Everything else is wired in createApp.
import { createServer, type IncomingMessage } from 'node:http';
import { createApp } from './app.ts';
import { handleClientErrors } from './client-error.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';
import { recordWriteBatches } from './store-metrics.ts';

const SHUTDOWN_GRACE_MS = 5_000;

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'ERROR', msg: 'invalid configuration', error: loaded.error }) + '\n');
  process.exit(2);
}
const config = loaded.value;
const log = createLogger({ level: config.logLevel });
// Lines are buffered for at most one event-loop turn; write them out whatever ends the process.
process.on('exit', () => log.flush());

if (config.webhookSecret === null) {
  log.log('ERROR', { msg: 'WEBHOOK_SECRET is not set: /webhook answers 503 and /health/ready reports not ready' });
}

const metrics = createMetrics();
registerProcessMetrics(metrics);
const store = await openStoreOrExit();

async function openStoreOrExit(): Promise<Store> {
  try {
    return await openSqliteStore({
      path: config.database.path,
      queueLimit: config.writeQueueLimit,
      log,
      onBatch: recordWriteBatches(metrics),
      // Without its writer the service cannot do its job, and /health/live would still answer:
      // exit non-zero, so that the supervisor (compose's restart policy, Kubernetes) starts afresh.
      onWriterStopped: () => shutdown({ reason: 'writer_stopped' }, 1),
    });
  } catch (error) {
    // The message may name paths or SQL; the code and the variable are enough to act on.
    const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
    log.log('ERROR', { msg: 'cannot open the database named by DATABASE_URL', code });
    process.exit(1);
  }
}

// Requests whose body the HTTP parser rejected mid-request: answered by client-error.ts, logged by the app.
const rejectedBodies = new WeakSet<IncomingMessage>();
const app = createApp({ config, store, log, metrics, rejectedBodies });
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
    // The app checks Host itself, so a request without one gets a JSON 400 and a log line.
    requireHostHeader: false,
  },
  app,
);
// Every request with an Expect header goes to the app, which decides on 100 Continue or a JSON 417
// (Node would answer 100 Continue to a list that merely contains it, and a bare 417 otherwise).
server.on('checkContinue', app);
server.on('checkExpectation', app);
// A client that half-closes after its request still gets the answer; Node's default ends the
// socket at once, dropping the answer to a request it has already handed over.
(server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
handleClientErrors(server, log, rejectedBodies);
// Each open connection costs memory (kilobytes idle, more while it sends), and an idle keep-alive
// one lives 65 s: without a cap, thousands of idle clients alone could pass the container's memory
// limit. Past the cap Node closes a new connection as it arrives; the drops are counted.
server.maxConnections = config.maxConnections;
// A connection with no traffic either way for 2 minutes is closed (Node destroys it on 'timeout'
// when nothing else listens): a client that stops reading its answers cannot hold one, and the
// memory behind it, for good. Longer than the 65 s keep-alive, which closes idle ones first.
server.timeout = 120_000;
const droppedConnections = metrics.counter({
  name: 'http_connections_dropped_total',
  help: 'Connections closed on arrival because MAX_CONNECTIONS were already open.',
});
droppedConnections.inc({}, 0);
server.on('drop', () => droppedConnections.inc());
// Node's own default (2,000) would let one request make us build a header table that large; a
// webhook sends a handful, and more than 100 lines is refused with a 431 (client-error.ts).
server.maxHeadersCount = 100;

// A port in use or an address that cannot be bound: one log line naming the variables, not a trace.
server.once('error', (error: Error & { code?: string }) => {
  log.log('ERROR', { msg: 'cannot listen on HOST:PORT', host: config.host, port: config.port, code: error.code });
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  log.log('INFO', { msg: 'listening', host: config.host, port, database: config.database.kind });
});

let stopping = false;
let exitCode = 0;
function shutdown(cause: { signal: string } | { reason: string }, code: number): void {
  // A failure during a shutdown already under way (the writer dying after SIGTERM) still ends the
  // process non-zero.
  exitCode = Math.max(exitCode, code);
  if (stopping) return;
  stopping = true;
  log.log(code === 0 ? 'INFO' : 'ERROR', { msg: 'shutting down', ...cause });
  // Stop accepting; in-flight requests finish; keep-alive sockets close as soon as they are idle
  // (checked every 100 ms, since a busy one becomes idle after its response). A grace timer bounds
  // the wait so a slow client cannot hold the exit hostage. Then the store commits whatever is
  // still queued and stops its writer thread.
  const reapIdle = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  reapIdle.unref();
  force.unref();
  server.close(async () => {
    await store.close();
    log.log('INFO', { msg: 'stopped' });
    process.exit(exitCode);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown({ signal: 'SIGTERM' }, 0));
process.on('SIGINT', () => shutdown({ signal: 'SIGINT' }, 0));
