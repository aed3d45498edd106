// The PostgreSQL client's public API; the store imports from here and nowhere else in wire/.
// Protocol 3.0 over node:net and node:tls, the extended query protocol only, text in and out.
//
//   parseDatabaseUrl(url, { password? }): { ok: true, value: DatabaseUrl } | { ok: false, error }
//   createPool({ ...connection options, size, acquireTimeoutMs, maxWaiting, backoff }): Pool
//     pool.query(sql, params?, { timeoutMs? }): Promise<QueryResult>
//     pool.pipeline([{ sql, params }, ...], { timeoutMs? }): Promise<QueryResult[]>
//     pool.withConnection(async (connection) => ...), pool.transaction(async (connection) => ..., { isolation? })
//     pool.stats(): { size, open, idle, busy, opening, waiting, failedAttempts }; pool.close()
//   connect(options): Promise<PgConnection>, with the same query and pipeline, plus
//     transactionStatus ('idle' | 'in_transaction' | 'failed'), processId, parameter(name), close(), destroy()
//   textArrayLiteral(values): one text[] parameter, for `unnest($1::text[])`
//
// QueryResult: { columns: string[], rows: (string | null)[][], command: string, rowCount: number | null }.
// Parameters are `string | null` only: the caller formats numbers and dates, and SQL casts them.
//
// A pipeline's statements run in one implicit transaction (one Sync): it resolves only if all of
// them succeeded and committed; otherwise it rejects with the server's PgError (statementIndex says
// which one; null when the commit itself failed) and none of them took effect.
//
// Errors: PgError (the server's; `message` is "postgres error <SQLSTATE>", the server's text is in
// the non-enumerable `server`, never to be logged) or PgClientError (ours, with a `code`; safe to
// log). Decide by SQLSTATE or code with the helpers below, never by message text.
export { isAdminShutdown, isConnectionError, isDeadlock, isQueryCanceled, isQueryTimeout, isSerializationFailure, isUniqueViolation, sqlState } from './classify.ts';
export { connect, type ConnectOptions } from './connect.ts';
export type { PgConnection, PgNotification, QueryOptions } from './connection.ts';
export type { TransactionStatus } from './backend.ts';
export type { Param, Statement } from './frontend.ts';
export { PgClientError, type ClientErrorCode } from './pg-client-error.ts';
export { PgError, type PgNotice, type PgServerText, type PgSeverity } from './pg-error.ts';
export type { QueryResult, Row } from './pipeline-run.ts';
export { createPool, type IsolationLevel, type Pool, type PoolOptions, type PoolStats } from './pool.ts';
export { textArrayLiteral } from './text-array.ts';
export type { TlsOptions } from './transport.ts';
export { parseDatabaseUrl, type DatabaseUrl, type DatabaseUrlResult } from './url.ts';
