// A pool of sessions. Connections open on demand, up to `size`; a lost one is dropped at once and
// the next demand opens a new one. Connection attempts that fail back off (backoff.ts) so a
// database that is down is not hammered. A caller waits at most acquireTimeoutMs for a connection
// and at most maxWaiting callers wait, so an outage turns into prompt errors, not a growing heap.
// When an attempt fails while no connection is open or opening, the callers waiting get that
// error at once.
//
// A connection goes back to the pool only in a known state: still open, nothing running on it,
// and outside any transaction (ReadyForQuery said 'I'). One left inside a transaction (the caller
// forgot COMMIT, or threw) is rolled back first; if that fails, or a query is still running on
// it, it is destroyed instead. A statement that failed with a connection error may or may not have
// run (classify.ts): the pool never retries anything itself.
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { connect, type ConnectOptions } from './connect.ts';
import type { PgConnection, QueryOptions } from './connection.ts';
import type { Param, Statement } from './frontend.ts';
import { PgClientError } from './pg-client-error.ts';
import type { QueryResult } from './pipeline-run.ts';

export type PoolOptions = ConnectOptions & {
  /** 4: most connections open at once. */
  size?: number;
  /** 10 s: how long a caller waits for a connection; the query's own timeout starts after. */
  acquireTimeoutMs?: number;
  /** 1000: most callers waiting for a connection; more are refused at once with 'pool_busy'. */
  maxWaiting?: number;
  /** 100 ms, doubling, at most 10 s (with jitter): the wait after failed connection attempts. */
  backoff?: BackoffOptions;
};

const ISOLATION_SQL = { 'read committed': 'READ COMMITTED', 'repeatable read': 'REPEATABLE READ', serializable: 'SERIALIZABLE' } as const;
export type IsolationLevel = keyof typeof ISOLATION_SQL;

export type PoolStats = {
  size: number;
  open: number;
  idle: number;
  busy: number;
  opening: number;
  waiting: number;
  /** Connection attempts failed in a row; 0 once one succeeds. */
  failedAttempts: number;
};

export type Pool = {
  query(sql: string, params?: readonly Param[], options?: QueryOptions): Promise<QueryResult>;
  pipeline(statements: readonly Statement[], options?: QueryOptions): Promise<QueryResult[]>;
  /** Lends one connection for several queries (BEGIN ... COMMIT); see the file header for how it comes back. */
  withConnection<T>(work: (connection: PgConnection) => Promise<T>): Promise<T>;
  /** BEGIN, `work`, COMMIT on one connection; ROLLBACK when `work` throws. */
  transaction<T>(work: (connection: PgConnection) => Promise<T>, options?: { isolation?: IsolationLevel }): Promise<T>;
  stats(): PoolStats;
  /** Refuses new work, lets running queries finish (each connection's closeTimeoutMs), then closes every connection. */
  close(): Promise<void>;
};

const reusable = (connection: PgConnection) => connection.isOpen && connection.pending === 0 && connection.transactionStatus === 'idle';

type Waiter = { resolve: (connection: PgConnection) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

function bounded(name: string, value: number | undefined, fallback: number, max: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > max) throw new PgClientError('invalid_options', `${name} must be a whole number from 1 to ${max}`);
  return chosen;
}

export function createPool(options: PoolOptions): Pool {
  const size = bounded('size', options.size, 4, 1000);
  const acquireTimeoutMs = bounded('acquireTimeoutMs', options.acquireTimeoutMs, 10_000, 2_147_483_647);
  const maxWaiting = bounded('maxWaiting', options.maxWaiting, 1000, 1_000_000);
  const backoff = {
    initialMs: bounded('backoff.initialMs', options.backoff?.initialMs, 100, 60_000),
    maxMs: bounded('backoff.maxMs', options.backoff?.maxMs, 10_000, 600_000),
  };
  const all = new Set<PgConnection>();
  const idle: PgConnection[] = [];
  const waiters: Waiter[] = [];
  const attempts = new Set<Promise<void>>();
  let failedAttempts = 0;
  let nextAttemptAt = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let closing = false;

  function grow(): void {
    while (!closing && waiters.length > attempts.size && all.size + attempts.size < size) {
      const wait = nextAttemptAt - Date.now();
      if (wait > 0) {
        retryTimer ??= setTimeout(() => {
          retryTimer = null;
          grow();
        }, wait);
        return;
      }
      const attempt = connect(options).then(opened, failed).finally(() => {
        attempts.delete(attempt);
        grow();
      });
      attempts.add(attempt);
    }
  }

  function opened(connection: PgConnection): void {
    failedAttempts = 0;
    nextAttemptAt = 0;
    all.add(connection);
    void connection.closed.then(() => {
      all.delete(connection);
      const index = idle.indexOf(connection);
      if (index !== -1) idle.splice(index, 1);
      grow();
    });
    if (closing) void connection.close();
    else handOver(connection);
  }

  function failed(error: unknown): void {
    failedAttempts++;
    nextAttemptAt = Date.now() + backoffDelay(failedAttempts, backoff);
    if (all.size > 0 || attempts.size > 1) return;
    for (const waiter of waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error instanceof Error ? error : new PgClientError('connect_failed'));
    }
  }

  function handOver(connection: PgConnection): void {
    if (!connection.isOpen) return;
    const waiter = waiters.shift();
    if (waiter === undefined) {
      idle.push(connection);
      return;
    }
    clearTimeout(waiter.timer);
    waiter.resolve(connection);
  }

  function acquire(): Promise<PgConnection> {
    if (closing) return Promise.reject(new PgClientError('pool_closed'));
    for (let connection = idle.pop(); connection !== undefined; connection = idle.pop()) {
      if (connection.isOpen) return Promise.resolve(connection);
    }
    if (waiters.length >= maxWaiting) return Promise.reject(new PgClientError('pool_busy'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new PgClientError('acquire_timeout'));
        }, acquireTimeoutMs),
      };
      waiters.push(waiter);
      grow();
    });
  }

  async function release(connection: PgConnection): Promise<void> {
    if (!connection.isOpen) return;
    if (connection.pending > 0 || closing) {
      // A query the caller did not wait for is still running: its outcome is unknown to anyone.
      if (closing) void connection.close();
      else connection.destroy();
      return;
    }
    if (connection.transactionStatus !== 'idle') {
      await connection.query('ROLLBACK').catch(() => {});
      if (!reusable(connection)) {
        connection.destroy();
        return;
      }
    }
    handOver(connection);
  }

  async function withConnection<T>(work: (connection: PgConnection) => Promise<T>): Promise<T> {
    const connection = await acquire();
    try {
      return await work(connection);
    } finally {
      void release(connection);
    }
  }

  return {
    query: (sql, params, queryOptions) => withConnection((connection) => connection.query(sql, params, queryOptions)),
    pipeline: (statements, queryOptions) => withConnection((connection) => connection.pipeline(statements, queryOptions)),
    withConnection,
    transaction(work, transactionOptions = {}) {
      const isolation = transactionOptions.isolation;
      // From a fixed table, never from the argument's text: this string is SQL.
      if (isolation !== undefined && !Object.hasOwn(ISOLATION_SQL, isolation)) {
        return Promise.reject(new PgClientError('invalid_options', 'unknown isolation level'));
      }
      const begin = isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${ISOLATION_SQL[isolation]}`;
      return withConnection(async (connection) => {
        await connection.query(begin);
        const result = await work(connection);
        // COMMIT in a transaction that an error already aborted answers "ROLLBACK", not an error.
        const commit = await connection.query('COMMIT');
        if (commit.command !== 'COMMIT') throw new PgClientError('transaction_rolled_back');
        return result;
      });
    },
    stats: () => ({
      size,
      open: all.size,
      idle: idle.length,
      busy: all.size - idle.length,
      opening: attempts.size,
      waiting: waiters.length,
      failedAttempts,
    }),
    async close() {
      if (!closing) {
        closing = true;
        if (retryTimer !== null) clearTimeout(retryTimer);
        for (const waiter of waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new PgClientError('pool_closed'));
        }
        idle.length = 0;
        for (const connection of all) void connection.close();
      }
      await Promise.allSettled([...attempts]);
      await Promise.all([...all].map((connection) => connection.closed));
    },
  };
}
