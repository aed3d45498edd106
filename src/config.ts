// Configuration is parsed here, once, from an environment-like object that an entry point passes in
// (server.ts, healthcheck.ts: the only modules that read process.env).
import { LOG_LEVELS, type LogLevel } from './observability/log.ts';

export type DatabaseLocation = { kind: 'sqlite'; path: string };

export type Config = {
  /** The keys /webhook signatures are checked against; none means the source is not configured. */
  webhookSecrets: string[];
  database: DatabaseLocation;
  logLevel: LogLevel;
  port: number;
  host: string;
  maxBodyBytes: number;
  /** Most memory held at once by all webhook bodies still arriving, before their signature is checked. */
  maxBufferedBodyBytes: number;
  writeQueueLimit: number;
  /** Most open client connections; more are closed as they arrive. */
  maxConnections: number;
};

export type ConfigResult = { ok: true; value: Config } | { ok: false; error: string };

type Env = Record<string, string | undefined>;

const SQLITE_FORMS = 'sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:';

export function loadConfig(env: Env): ConfigResult {
  const secret = env.WEBHOOK_SECRET ?? '';

  const database = parseDatabaseUrl(env.DATABASE_URL ?? 'sqlite:///data/app.db');
  if (database === null) {
    return fail(`DATABASE_URL: unsupported value; accepted forms: ${SQLITE_FORMS}`);
  }

  const levelText = (env.LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  const logLevel = levelText === 'WARNING' ? 'WARN' : levelText;
  if (!isLogLevel(logLevel)) {
    return fail('LOG_LEVEL: unknown level; accepted: DEBUG, INFO, WARN (or WARNING), ERROR, case-insensitive');
  }

  const port = parseInteger(env.PORT ?? '8000', 0, 65535);
  if (port === null) return fail('PORT: must be an integer from 0 to 65535');

  const host = (env.HOST ?? '0.0.0.0').trim();
  if (host === '') return fail('HOST: must be a non-empty address to listen on, e.g. 0.0.0.0 or 127.0.0.1');

  const maxBodyBytes = parseInteger(env.MAX_BODY_BYTES ?? '1048576', 1, 64 * 1024 * 1024);
  if (maxBodyBytes === null) return fail('MAX_BODY_BYTES: must be an integer from 1 to 67108864');

  // Unset, it is 32 MiB, or MAX_BODY_BYTES if that is larger, so one largest body always fits.
  const bufferedDefault = String(Math.max(32 * 1024 * 1024, maxBodyBytes));
  const maxBufferedBodyBytes = parseInteger(env.MAX_BUFFERED_BODY_BYTES ?? bufferedDefault, maxBodyBytes, 1024 * 1024 * 1024);
  if (maxBufferedBodyBytes === null) {
    return fail(`MAX_BUFFERED_BODY_BYTES: must be an integer from MAX_BODY_BYTES (${maxBodyBytes}) to 1073741824`);
  }

  const writeQueueLimit = parseInteger(env.WRITE_QUEUE_LIMIT ?? '1000', 1, 1_000_000);
  if (writeQueueLimit === null) return fail('WRITE_QUEUE_LIMIT: must be an integer from 1 to 1000000');

  const maxConnections = parseInteger(env.MAX_CONNECTIONS ?? '1024', 1, 65_535);
  if (maxConnections === null) return fail('MAX_CONNECTIONS: must be an integer from 1 to 65535');

  return {
    ok: true,
    value: {
      webhookSecrets: secret === '' ? [] : [secret],
      database,
      logLevel,
      port,
      host,
      maxBodyBytes,
      maxBufferedBodyBytes,
      writeQueueLimit,
      maxConnections,
    },
  };
}

/**
 * SQLAlchemy-style SQLite URLs: three slashes then a relative path, four slashes for an absolute
 * path, or `:memory:`. Returns null for anything else, so the caller can name the accepted forms.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation | null {
  const prefix = 'sqlite:///';
  if (!url.startsWith(prefix)) return null;
  const path = url.slice(prefix.length);
  if (path === '' || path.includes('\0') || path.includes('?')) return null;
  return { kind: 'sqlite', path };
}

function parseInteger(text: string, min: number, max: number): number | null {
  if (!/^\d{1,10}$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return value >= min && value <= max ? value : null;
}

function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LOG_LEVELS, value);
}

function fail(error: string): ConfigResult {
  return { ok: false, error };
}
