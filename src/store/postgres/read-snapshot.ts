// Every read runs here: on the read pool (never a write connection, so reads cannot hold up
// writes), in one REPEATABLE READ READ ONLY transaction (a page and its total, or the parts of
// /stats, come from one snapshot), within the caller's deadline.
//
// The deadline is enforced three ways. The caller's promise rejects with read_timeout at the
// deadline, whatever the database is doing. The server stops the work itself: statement_timeout is
// set (SET LOCAL, through set_config) to the time left when the transaction starts. And each
// query's client-side timeout is the time left plus a grace, so the server's cancel normally comes
// first and the connection survives; if it does not, the client destroys the connection.
import { FeedPositionError, ReadFailedError, ReadUnavailableError, type ReadOptions } from '../store.ts';
import { errorCode } from './error-codes.ts';
import { isConnectionError, isQueryCanceled, isQueryTimeout, PgClientError, PgError, type Param, type Pool, type QueryResult, type Statement } from './wire/client.ts';

/** Time for the server's own statement_timeout to answer before the client gives up on the connection. */
const CLIENT_GRACE_MS = 500;
/** The longest wait a timer, statement_timeout or the client accepts (2^31 - 1 ms), less the grace. */
const MAX_WAIT_MS = 2_147_483_647 - CLIENT_GRACE_MS;

export type Snapshot = {
  query(sql: string, params?: readonly Param[]): Promise<QueryResult>;
  pipeline(statements: readonly Statement[]): Promise<QueryResult[]>;
};

export type ReadRunner = <T>(options: ReadOptions, work: (snapshot: Snapshot) => Promise<T>) => Promise<T>;

/** `onError` hears of every error a read ends with, before it is turned into the contract's. */
export function createReadRunner(pool: Pool, onError: (error: unknown) => void): ReadRunner {
  return async (options, work) => {
    const { deadline } = options;
    const left = (): number => {
      const ms = Math.ceil(deadline - Date.now());
      if (!(ms > 0)) throw new ReadUnavailableError('read_timeout');
      return Math.min(ms, MAX_WAIT_MS);
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      // Past the deadline already: refused before a connection is taken.
      const first = left();
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ReadUnavailableError('read_timeout')), first);
      });
      const run = pool.withConnection(async (connection) => {
        const timeout = () => ({ timeoutMs: left() + CLIENT_GRACE_MS });
        await connection.pipeline(
          [
            { sql: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' },
            { sql: "SELECT set_config('statement_timeout', $1, true)", params: [String(left())] },
          ],
          timeout(),
        );
        const result = await work({
          query: (sql, params) => connection.query(sql, params, timeout()),
          pipeline: (statements) => connection.pipeline(statements, timeout()),
        });
        await connection.query('COMMIT', [], timeout());
        return result;
      });
      // Past the deadline the caller has its answer; whatever the read ends with is of no use.
      run.catch(() => {});
      return await Promise.race([run, expired]);
    } catch (error) {
      onError(error);
      throw refusal(error);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The contract's error for why a read failed; errors of the store's own pass through unchanged. */
function refusal(error: unknown): unknown {
  if (error instanceof ReadUnavailableError || error instanceof FeedPositionError) return error;
  // 57014: statement_timeout, or the cancel our own timeout sent.
  if (isQueryCanceled(error) || isQueryTimeout(error)) return new ReadUnavailableError('read_timeout');
  if (error instanceof PgClientError && error.code === 'acquire_timeout') return new ReadUnavailableError('read_timeout');
  if (error instanceof PgClientError && error.code === 'pool_busy') return new ReadUnavailableError('read_busy');
  if (isConnectionError(error) || (error instanceof PgClientError && error.code === 'pool_closed')) return new ReadUnavailableError('read_unavailable');
  // Any other error of the database or the client is a 500, logged as on SQLite: the kind of
  // failure (ReadFailedError) and its code (a SQLSTATE, or the client's), never the server's text.
  if (error instanceof PgError || error instanceof PgClientError) return new ReadFailedError(errorCode(error));
  // Anything else is a bug of ours: a 500 too, under its own name.
  return error;
}
