// Errors the client raises itself, as opposed to PgError (pg-error.ts), which carries the server's
// ErrorResponse. Every code and the only text its message can hold are in the table below; `detail`
// is a fixed phrase of ours. Nothing the server sent, no SQL, no parameter and no password ever
// goes into these messages, so they can be logged as they are.

export const CLIENT_ERRORS = {
  connect_failed: 'could not connect to postgres',
  connect_timeout: 'connecting to postgres timed out',
  tls_refused: 'postgres server did not accept TLS',
  tls_failed: 'TLS with the postgres server failed',
  auth_refused: 'refused to authenticate with the postgres server',
  protocol_violation: 'postgres server broke the protocol',
  message_too_large: 'postgres server sent a message over the size limit',
  unsupported: 'postgres asked for something this client does not do',
  connection_lost: 'connection to postgres lost',
  connection_closed: 'connection to postgres closed',
  query_timeout: 'postgres query timed out',
  result_too_large: 'postgres result over the row or byte limit',
  transaction_rolled_back: 'postgres transaction was rolled back instead of committed',
  invalid_query: 'query refused before sending',
  invalid_options: 'connection options refused',
  pool_closed: 'postgres pool is closed',
  pool_busy: 'too many callers waiting for a postgres connection',
  acquire_timeout: 'timed out waiting for a postgres connection',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

export class PgClientError extends Error {
  readonly code: ClientErrorCode;
  /** A fixed phrase of ours saying which check failed, or null. */
  readonly detail: string | null;

  constructor(code: ClientErrorCode, detail: string | null = null, options: { cause?: unknown } = {}) {
    super(detail === null ? CLIENT_ERRORS[code] : `${CLIENT_ERRORS[code]}: ${detail}`, options);
    this.name = 'PgClientError';
    this.code = code;
    this.detail = detail;
  }
}
