// How the store reads an error from the client: by SQLSTATE (PgError) or by the client's own code
// (PgClientError), never by message text, and never passing the server's text on (it may quote
// SQL or row data). These codes are all that reaches a log line or a metric label.
import { isConnectionError, PgClientError, PgError, sqlState } from './wire/client.ts';

/** A code safe to log: the SQLSTATE, our client's code, or 'unknown'. */
export function errorCode(error: unknown): string {
  if (error instanceof PgError) return error.code;
  if (error instanceof PgClientError) return error.code;
  return 'unknown';
}

/**
 * The statement may have run, and even committed, without our hearing of it: the connection went
 * away after it was sent (lost, terminated by an administrator, the server shut down), or our
 * timeout destroyed the connection while it ran. Only an idempotent statement may be retried.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (error instanceof PgClientError) return ['connection_lost', 'connection_closed', 'query_timeout'].includes(error.code);
  return isConnectionError(error);
}

/** 40001 (serialization failure) and 40P01 (deadlock): rolled back, and worth running again. */
export function worthRetrying(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): one row's fault, not the batch's. */
export function rowFault(error: unknown): boolean {
  const state = sqlState(error);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}
