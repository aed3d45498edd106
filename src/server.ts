// The service's entry point: the only module that opens the database, listens and handles
// signals, and with healthcheck.ts (the container probe's entry point) the only one that reads
// process.env. The routes are wired in createApp (app.ts), the server's options in
// createHttpServer (http/http-server.ts).
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createApp } from './app.ts';
import { loadConfig } from './config/config.ts';
import { createConnectionTracker } from './http/connection-tracker.ts';
import { createHttpServer } from './http/http-server.ts';
import { createLogger } from './observability/log.ts';
import { createMetrics } from './observability/metrics.ts';
import { registerProcessMetrics } from './observability/process-metrics.ts';
import { openPostgresStore } from './store/postgres/postgres-store.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

const SHUTDOWN_GRACE_MS = 5_000;
/** The internal listener serves probes and scrapes: a few connections are plenty. */
const ADMIN_MAX_CONNECTIONS = 64;

const loaded = loadConfig(process.env, (path) => readFileSync(path, 'utf8'));
if (!loaded.ok) {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'ERROR', msg: 'invalid configuration', error: loaded.error }) + '\n');
  process.exit(2);
}
const config = loaded.value;
const log = createLogger({ level: config.logLevel });
// Lines are buffered for at most one event-loop turn; write them out whatever ends the process.
process.on('exit', () => log.flush());

for (const warning of loaded.warnings) log.log('WARN', { msg: 'weak secret', detail: warning });
const { webhook, whatsapp, standard } = config.sources;
if (webhook.secrets.length + whatsapp.appSecrets.length + standard.secrets.length === 0) {
  log.log('ERROR', { msg: 'WEBHOOK_SECRET is not set: /webhook answers 503 and /health/ready reports not ready' });
} else if (webhook.secrets.length === 0) {
  log.log('INFO', { msg: 'WEBHOOK_SECRET is not set: /webhook answers 503' });
}
if (whatsapp.appSecrets.length > 0 && whatsapp.verifyTokens.length === 0) {
  log.log('WARN', { msg: 'WHATSAPP_VERIFY_TOKEN is not set: the subscription handshake answers 403, so Meta cannot verify the callback URL' });
}
if (config.tokens.read.length === 0) {
  log.log('WARN', { msg: 'READ_TOKENS is not set: /messages and /stats answer anyone who can reach the port' });
}

const metrics = createMetrics();
registerProcessMetrics(metrics);
const store = await openStoreOrExit();

async function openStoreOrExit(): Promise<Store> {
  const { database, writeQueueLimit: queueLimit, retentionDays, tombstoneDays } = config;
  try {
    if (database.kind === 'postgres') {
      return await openPostgresStore({
        database: database.url,
        poolSize: database.poolSize,
        readPoolSize: config.reads.concurrency,
        queueLimit, retentionDays, tombstoneDays, log, metrics,
      });
    }
    return await openSqliteStore({
      path: database.path,
      queueLimit,
      readThreads: config.reads.threads,
      readCpuShare: config.reads.cpuPercent / 100,
      retentionDays, tombstoneDays, log, metrics,
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

const connections = createConnectionTracker();
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const { handler, adminHandler, closeStreams } = createApp({ config, store, log, metrics, connections, version });
const dropped = metrics.counter({ name: 'http_connections_dropped_total', help: 'Connections closed on arrival because the listener had its most open.' });
dropped.inc({}, 0);
const onDrop = () => dropped.inc();
const servers: Server[] = [createHttpServer(handler, { log, onDrop, connections, maxConnections: config.maxConnections })];
listen(servers[0] as Server, config.host, config.port, 'HOST:PORT', 'listening');
if (adminHandler !== null && config.admin !== null) {
  const admin = createHttpServer(adminHandler, { log, onDrop, connections, maxConnections: ADMIN_MAX_CONNECTIONS });
  servers.push(admin);
  listen(admin, config.admin.host, config.admin.port, 'ADMIN_HOST:ADMIN_PORT', 'admin listening');
}

function listen(server: Server, host: string, port: number, variables: string, msg: string): void {
  // A port in use or an address that cannot be bound: one log line naming the variables, not a trace.
  server.once('error', (error: Error & { code?: string }) => {
    log.log('ERROR', { msg: `cannot listen on ${variables}`, host, port, code: error.code });
    process.exit(1);
  });
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    log.log('INFO', { msg, host, port: bound, database: config.database.kind });
  });
}

let stopping = false;
let exitCode = 0;
function shutdown(cause: { signal: string } | { reason: string }, code: number): void {
  // A failure during a shutdown already under way (the writer dying after SIGTERM) still ends the
  // process non-zero.
  exitCode = Math.max(exitCode, code);
  if (stopping) return;
  stopping = true;
  log.log(code === 0 ? 'INFO' : 'ERROR', { msg: 'shutting down', ...cause });
  // Streams never end by themselves: end them now, so their connections can close.
  closeStreams();
  // Stop accepting; in-flight requests finish; keep-alive sockets close as soon as they are idle
  // (checked every 100 ms, since a busy one becomes idle after its response). A grace timer bounds
  // the wait so a slow client cannot hold the exit hostage. Then the store commits whatever is
  // still queued and stops its threads.
  const reapIdle = setInterval(() => servers.forEach((server) => server.closeIdleConnections()), 100);
  const force = setTimeout(() => servers.forEach((server) => server.closeAllConnections()), SHUTDOWN_GRACE_MS);
  reapIdle.unref();
  force.unref();
  const closed = servers.map((server) => new Promise((resolve) => server.close(resolve)));
  void Promise.all(closed).then(async () => {
    await store.lifecycle.close();
    log.log('INFO', { msg: 'stopped' });
    process.exit(exitCode);
  });
  for (const server of servers) server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown({ signal: 'SIGTERM' }, 0));
process.on('SIGINT', () => shutdown({ signal: 'SIGINT' }, 0));
