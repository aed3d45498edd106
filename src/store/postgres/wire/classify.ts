// What a caller may do about an error, decided by SQLSTATE (PgError) or by our own code
// (PgClientError), never by message text.
import { PgClientError } from './pg-client-error.ts';
import { PgError } from './pg-error.ts';

/** The SQLSTATE of a server error, or null for anything else. */
export function sqlState(error: unknown): string | null {
  return error instanceof PgError ? error.code : null;
}

/** 40001: a serializable or repeatable-read transaction lost a race; running it again may succeed. */
export const isSerializationFailure = (error: unknown): boolean => sqlState(error) === '40001';

/** 40P01: the transaction was chosen as a deadlock victim; running it again may succeed. */
export const isDeadlock = (error: unknown): boolean => sqlState(error) === '40P01';

export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505';

/** 57014: canceled by statement_timeout or by a cancel request. */
export const isQueryCanceled = (error: unknown): boolean => sqlState(error) === '57014';

/** 57P01: an administrator (or pg_terminate_backend) ended the session. */
export const isAdminShutdown = (error: unknown): boolean => sqlState(error) === '57P01';

/** Our own timeout fired: the connection was destroyed, and what it had in flight rolls back. */
export const isQueryTimeout = (error: unknown): boolean => error instanceof PgClientError && error.code === 'query_timeout';

const CONNECTION_CODES: ReadonlySet<string> = new Set(['connect_failed', 'connect_timeout', 'connection_lost', 'connection_closed']);
/** 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now. */
const SHUTDOWN_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03']);

/**
 * The connection is gone or could not be made (SQLSTATE class 08, a server shutdown, or our own
 * connection errors). Whether the statement ran is unknown: only an idempotent one may be retried.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof PgClientError) return CONNECTION_CODES.has(error.code);
  const state = sqlState(error);
  return state !== null && (state.startsWith('08') || SHUTDOWN_STATES.has(state));
}
