// Configuration is parsed here, once, from an environment-like object that an entry point passes in
// (server.ts, healthcheck.ts: the only modules that read process.env), with the file reader that
// `_FILE` variables need. Every limit is checked where it enters; the first error stops startup
// with a message naming the variable and what it accepts.
import { LOG_LEVELS, type LogLevel } from '../observability/log.ts';
import { parseStandardWebhooksSecret } from '../ingest/schemes/standard-webhooks.ts';
import { parseDatabaseUrl as parsePostgresUrl, type DatabaseUrl } from '../store/postgres/wire/url.ts';
import { createEnvReader, type Env, type EnvReader, type ReadFile } from './env-reader.ts';
import { weakSecretWarnings } from './weak-secrets.ts';

export type DatabaseLocation =
  | { kind: 'sqlite'; path: string }
  /** `poolSize`: connections of the write pool (the read pool has READ_CONCURRENCY). */
  | { kind: 'postgres'; url: DatabaseUrl; poolSize: number };

export type ReadLimits = {
  /** Reader threads, each with its own read-only connection (SQLite). */
  threads: number;
  /** Percent of one core each reader thread may use over time (SQLite; read-clock.ts). */
  cpuPercent: number;
  /** Most reads running at once; more wait in a queue of queueLimit, then are refused. */
  concurrency: number;
  queueLimit: number;
  /** Deadline of one read, queueing included. */
  timeoutMs: number;
  /** Most bytes the messages of one listing page may take as JSON. */
  maxPageBytes: number;
};

/** Each ingest source, enabled by its secrets: none leaves it unconfigured. */
export type SourcesConfig = {
  /** /webhook (X-Signature): without secrets it answers 503, as it always has. */
  webhook: { secrets: string[]; maxBodyBytes: number };
  /** /webhooks/whatsapp (Meta's X-Hub-Signature-256 and subscription handshake); 404 without app secrets. */
  whatsapp: { appSecrets: string[]; verifyTokens: string[]; maxBodyBytes: number };
  /** /webhooks/standard (Standard Webhooks, `whsec_` secrets); 404 without secrets. */
  standard: { secrets: string[]; toleranceSeconds: number; maxBodyBytes: number };
};

export type Config = {
  sources: SourcesConfig;
  database: DatabaseLocation;
  logLevel: LogLevel;
  port: number;
  host: string;
  /** The internal listener for probes and metrics, or null to serve them on the public port. */
  admin: { port: number; host: string } | null;
  /** Host header values the public port answers (lowercase); null accepts any. */
  allowedHosts: string[] | null;
  /** Most memory held at once by all webhook bodies still arriving, before their signature is checked. */
  maxBufferedBodyBytes: number;
  /** Most bytes of large answers written but not yet taken by their clients, over all connections. */
  maxBufferedAnswerBytes: number;
  writeQueueLimit: number;
  /** Most open client connections; more are closed as they arrive. */
  maxConnections: number;
  reads: ReadLimits;
  /** Bearer tokens; an empty list leaves reads and scrapes open, and erasure disabled. */
  tokens: { read: string[]; metrics: string[]; admin: string[] };
  /** The message stream (GET /messages/stream). */
  streams: { maxStreams: number; bufferBytes: number; heartbeatMs: number; pollMs: number };
  /** Messages received longer ago than this many days are erased; null keeps them. */
  retentionDays: number | null;
  /** Days an erased id stays refused (a tombstone). */
  tombstoneDays: number;
};

export type ConfigResult = { ok: true; value: Config; warnings: string[] } | { ok: false; error: string };

const SQLITE_FORMS = 'sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:';
const POSTGRES_FORM = 'postgres://user:password@host:port/database?sslmode=disable|require|verify-full';
const MIB = 1024 * 1024;

export function loadConfig(env: Env, readFile: ReadFile = noFiles): ConfigResult {
  const read = createEnvReader(env, readFile);

  const database = readDatabase(env.DATABASE_URL ?? 'sqlite:///data/app.db', read);

  const levelText = (env.LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  const logLevel = levelText === 'WARNING' ? 'WARN' : levelText;
  if (!isLogLevel(logLevel)) read.fail('LOG_LEVEL: unknown level; accepted: DEBUG, INFO, WARN (or WARNING), ERROR, case-insensitive');

  const port = read.integer('PORT', 8000, 0, 65535);
  const host = (env.HOST ?? '0.0.0.0').trim();
  if (host === '') read.fail('HOST: must be a non-empty address to listen on, e.g. 0.0.0.0 or 127.0.0.1');
  const adminPort = env.ADMIN_PORT === undefined ? null : read.integer('ADMIN_PORT', 0, 1, 65535);
  const adminHost = read.text('ADMIN_HOST') ?? '127.0.0.1';
  if (adminPort !== null && adminPort === port) read.fail('ADMIN_PORT: must differ from PORT');
  const allowedHosts = read.list('ALLOWED_HOSTS').map((name) => name.toLowerCase());

  const maxBodyBytes = read.integer('MAX_BODY_BYTES', MIB, 1, 64 * MIB);
  // Meta sends notifications of up to 3 MB (a batch of messages and receipts).
  const whatsappMaxBodyBytes = read.integer('WHATSAPP_MAX_BODY_BYTES', 3 * MIB, 1, 64 * MIB);
  const whatsappAppSecrets = read.secrets('WHATSAPP_APP_SECRETS');
  // The route with the largest limit that is served: /webhooks/whatsapp only with its secrets.
  const largestBody = Math.max(maxBodyBytes, whatsappAppSecrets.length > 0 ? whatsappMaxBodyBytes : 0);
  // Unset, it is 32 MiB, or the largest body limit if that is larger, so one largest body always fits.
  const maxBufferedBodyBytes = read.integer(
    'MAX_BUFFERED_BODY_BYTES', Math.max(32 * MIB, largestBody), largestBody, 1024 * MIB,
    `the largest body limit (${largestBody}: MAX_BODY_BYTES, or WHATSAPP_MAX_BODY_BYTES with WhatsApp configured) to 1073741824`,
  );
  const writeQueueLimit = read.integer('WRITE_QUEUE_LIMIT', 1000, 1, 1_000_000);
  const maxConnections = read.integer('MAX_CONNECTIONS', 1024, 1, 65_535);

  const threads = read.integer('READ_THREADS', 1, 1, 16);
  const reads: ReadLimits = {
    threads,
    cpuPercent: read.integer('READ_CPU_PERCENT', 25, 5, 100),
    concurrency: read.integer('READ_CONCURRENCY', threads, 1, 64),
    queueLimit: read.integer('READ_QUEUE_LIMIT', 8, 0, 1000),
    timeoutMs: read.integer('READ_TIMEOUT_MS', 2000, 50, 60_000),
    maxPageBytes: read.integer('MAX_PAGE_BYTES', MIB, 64 * 1024, 16 * MIB),
  };
  // Unset, 32 MiB, or a page if that is larger, so one largest answer always fits.
  const maxBufferedAnswerBytes = read.integer(
    'MAX_BUFFERED_ANSWER_BYTES', Math.max(32 * MIB, reads.maxPageBytes), reads.maxPageBytes, 1024 * MIB,
    `MAX_PAGE_BYTES (${reads.maxPageBytes}) to 1073741824`,
  );

  const sources: SourcesConfig = {
    webhook: {
      secrets: unique([...read.secrets('WEBHOOK_SECRET', { single: true }), ...read.secrets('WEBHOOK_SECRETS')]),
      maxBodyBytes,
    },
    whatsapp: {
      appSecrets: whatsappAppSecrets,
      verifyTokens: read.secrets('WHATSAPP_VERIFY_TOKEN'),
      maxBodyBytes: whatsappMaxBodyBytes,
    },
    standard: {
      secrets: read.secrets('STANDARD_WEBHOOKS_SECRETS'),
      toleranceSeconds: read.integer('STANDARD_WEBHOOKS_TOLERANCE_S', 300, 1, 86_400),
      maxBodyBytes,
    },
  };
  sources.standard.secrets.forEach((secret, index) => {
    if (parseStandardWebhooksSecret(secret) === null) {
      read.fail(`STANDARD_WEBHOOKS_SECRETS: value ${index + 1} is not a secret: whsec_ followed by the base64 of 24 to 64 bytes`);
    }
  });
  const streams = {
    maxStreams: read.integer('MAX_STREAMS', 100, 0, 10_000),
    bufferBytes: read.integer('STREAM_BUFFER_BYTES', 256 * 1024, 16 * 1024, 16 * MIB),
    heartbeatMs: read.integer('STREAM_HEARTBEAT_S', 15, 1, 60) * 1000,
    // Messages this process stores wake subscribers at once; the poll finds other replicas' ones.
    pollMs: read.integer('STREAM_POLL_MS', 250, 20, 10_000),
  };
  const tokens = { read: read.secrets('READ_TOKENS'), metrics: read.secrets('METRICS_TOKEN'), admin: read.secrets('ADMIN_TOKENS') };
  const retentionDays = env.RETENTION_DAYS === undefined || env.RETENTION_DAYS.trim() === '' ? null : read.integer('RETENTION_DAYS', 0, 1, 36_500);
  // Meta retries a delivery for up to 7 days: 8 covers its last retry.
  const tombstoneDays = read.integer('TOMBSTONE_DAYS', 8, 1, 3_650);

  const error = read.error();
  if (error !== null || database === null || !isLogLevel(logLevel)) return { ok: false, error: error ?? 'invalid configuration' };
  return {
    ok: true,
    value: {
      sources,
      database,
      logLevel,
      port,
      host,
      admin: adminPort === null ? null : { port: adminPort, host: adminHost },
      allowedHosts: allowedHosts.length === 0 ? null : allowedHosts,
      maxBufferedBodyBytes,
      maxBufferedAnswerBytes,
      writeQueueLimit,
      maxConnections,
      reads,
      tokens,
      streams,
      retentionDays,
      tombstoneDays,
    },
    warnings: weakSecretWarnings({
      WEBHOOK_SECRET: sources.webhook.secrets,
      WHATSAPP_APP_SECRETS: sources.whatsapp.appSecrets,
      WHATSAPP_VERIFY_TOKEN: sources.whatsapp.verifyTokens,
      READ_TOKENS: tokens.read,
      METRICS_TOKEN: tokens.metrics,
      ADMIN_TOKENS: tokens.admin,
    }),
  };
}

/** The database DATABASE_URL names: a SQLite file, or a PostgreSQL server (its password may come from DATABASE_PASSWORD_FILE). */
function readDatabase(url: string, read: EnvReader): DatabaseLocation | null {
  if (/^postgres(?:ql)?:/i.test(url)) {
    const [password] = read.secrets('DATABASE_PASSWORD', { single: true });
    const parsed = parsePostgresUrl(url, password === undefined ? {} : { password });
    // The parser's errors never quote the URL or its password.
    if (!parsed.ok) read.fail(`DATABASE_URL: ${parsed.error}; accepted form: ${POSTGRES_FORM}`);
    const poolSize = read.integer('DATABASE_POOL_SIZE', 4, 2, 100);
    return parsed.ok ? { kind: 'postgres', url: parsed.value, poolSize } : null;
  }
  const sqlite = parseDatabaseUrl(url);
  if (sqlite === null) read.fail(`DATABASE_URL: unsupported value; accepted forms: ${SQLITE_FORMS}, or ${POSTGRES_FORM}`);
  return sqlite;
}

/**
 * SQLAlchemy-style SQLite URLs: three slashes then a relative path, four slashes for an absolute
 * path, or `:memory:`. Returns null for anything else, so the caller can name the accepted forms.
 */
export function parseDatabaseUrl(url: string): (DatabaseLocation & { kind: 'sqlite' }) | null {
  const prefix = 'sqlite:///';
  if (!url.startsWith(prefix)) return null;
  const path = url.slice(prefix.length);
  if (path === '' || path.includes('\0') || path.includes('?')) return null;
  return { kind: 'sqlite', path };
}

function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LOG_LEVELS, value);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Without a file reader (tests), a `_FILE` variable cannot be read. */
function noFiles(): string {
  throw new Error('no file reader');
}
