// Opening the database: connection settings from the parsed URL, one setup session that migrates
// the schema and loads the tombstone key, and the settings every pooled session then starts with.
import { lockKeys, type LockKeys } from './lock-keys.ts';
import { migrate, SchemaTooNewError } from './migrations.ts';
import { loadTombstoneKey, type KeyedHash } from './tombstone-key.ts';
import { connect, PgClientError, PgError, type ConnectOptions, type DatabaseUrl, type PgConnection } from './wire/client.ts';

/**
 * How long one statement of the setup session may take: a later migration may rebuild an index of
 * millions of rows, and replicas starting meanwhile wait for the migration lock just as long.
 */
const SETUP_STATEMENT_TIMEOUT_MS = 15 * 60_000;

export type ConnectionSettings = {
  /** The database, as parseDatabaseUrl (wire/url.ts) read it from DATABASE_URL. */
  database: DatabaseUrl;
  /** A password read from elsewhere (the variable's _FILE twin); it wins over the URL's. */
  password?: string | null;
  /** 'webhook-ingest': the application_name when the URL gives none (it shows in pg_stat_activity). */
  applicationName?: string;
};

export type OpenedDatabase = {
  /** What every pooled session connects with. */
  connection: ConnectOptions;
  keys: LockKeys;
  keyedHash: KeyedHash;
};

/**
 * Opening the database failed. `code` says why, for the operator: a SQLSTATE from the server
 * (28P01 a wrong password, 3D000 no such database), the system's code behind a connection or TLS
 * failure (ECONNREFUSED, ENOTFOUND, a certificate's), or our client's own (connect_timeout).
 * Neither the code nor the message holds the URL, the password or the server's text.
 */
export class DatabaseOpenError extends Error {
  readonly code: string;

  constructor(code: string, reason: string, options: { cause?: unknown } = {}) {
    super(`opening the PostgreSQL store failed: ${reason}`, options);
    this.name = 'DatabaseOpenError';
    this.code = code;
  }
}

export async function openDatabase(settings: ConnectionSettings): Promise<OpenedDatabase> {
  const url = settings.database;
  const base: ConnectOptions = {
    host: url.host,
    port: url.port,
    user: url.user,
    password: settings.password ?? url.password,
    database: url.database,
    tls: url.tls,
    applicationName: url.applicationName ?? settings.applicationName ?? 'webhook-ingest',
    parameters: url.parameters,
    connectTimeoutMs: url.connectTimeoutMs ?? undefined,
  };
  let session: PgConnection | undefined;
  try {
    session = await connect({ ...base, queryTimeoutMs: SETUP_STATEMENT_TIMEOUT_MS });
    const [schema, synchronousCommit] = (await session.query("SELECT current_schema(), current_setting('synchronous_commit')")).rows[0] ?? [];
    if (typeof schema !== 'string') throw new DatabaseOpenError('no_schema', 'no schema of the search_path exists to hold its tables');
    const keys = lockKeys(schema);
    await session.query('BEGIN');
    await migrate(session, keys.migrate);
    const keyedHash = await loadTombstoneKey(session);
    if ((await session.query('COMMIT')).command !== 'COMMIT') throw new PgClientError('transaction_rolled_back');
    // A write is acknowledged once its commit is durable: on this server at least (on), or on
    // its synchronous standbys too when the server asks for that (remote_apply). A weaker setting
    // of the role, database or URL (off, local, remote_write) is overridden: a startup parameter
    // comes after both.
    const durable = synchronousCommit === 'remote_apply' ? 'remote_apply' : 'on';
    return { connection: { ...base, parameters: { ...base.parameters, synchronous_commit: durable } }, keys, keyedHash };
  } catch (error) {
    throw openFailure(error);
  } finally {
    await session?.close();
  }
}

/** The error to start-up with: ours as they are; the client's and the server's by a code and their safe message only. */
function openFailure(error: unknown): unknown {
  if (error instanceof SchemaTooNewError) return error;
  // PgError's message is "postgres error <SQLSTATE>": the server's text stays in the cause's hidden field.
  if (error instanceof PgError || error instanceof PgClientError) return new DatabaseOpenError(failureCode(error), error.message, { cause: error });
  return error;
}

/**
 * The SQLSTATE, or the client's code; for a connection or TLS failure, the system's code behind it
 * when there is one: connect_failed alone would not tell a refused port from an unknown host.
 */
function failureCode(error: PgError | PgClientError): string {
  if (error instanceof PgClientError && (error.code === 'connect_failed' || error.code === 'tls_failed')) {
    const system = error.cause instanceof Error && 'code' in error.cause ? error.cause.code : undefined;
    // Only a code's shape is let through: it is logged as it is.
    if (typeof system === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(system)) return system;
  }
  return error.code;
}
