// One session after startup: runs queries one at a time (each a pipeline of statements and one
// Sync), reads every message the server sends, and ends the session when anything goes wrong.
// - NoticeResponse, ParameterStatus and NotificationResponse can arrive at any point, mid-query or
//   idle; they are handled before the query state machine sees anything.
// - An ErrorResponse while no query runs is the server ending the session (FATAL: an administrator
//   terminated it, the server shuts down): the connection closes with that error.
// - Every query has a timeout, counted from the call, waiting included. A query that times out
//   before it was sent is only dropped. One that was sent makes us send a CancelRequest (so the
//   server stops it and rolls it back) and destroy the connection: its answer may still come, and
//   the session's state is unknown. Either way it rejects with PgClientError 'query_timeout'.
// - A connection that is lost or broken rejects every query it holds, at once and afterwards.
import type { Socket } from 'node:net';
import { decodeNotification, decodeReadyForQuery, type TransactionStatus } from './backend.ts';
import { extendedQuery, terminate, type Param, type Statement } from './frontend.ts';
import type { BackendMessage, MessageReader } from './message-reader.ts';
import { PgClientError } from './pg-client-error.ts';
import type { PgNotice } from './pg-error.ts';
import { createPipelineRun, type PipelineRun, type QueryResult, type RunLimits, type RunOutcome } from './pipeline-run.ts';
import { applyParameterStatus, deliverNotice, serverError, type Session } from './startup.ts';

export type PgNotification = { processId: number; channel: string; payload: string };

export type QueryOptions = { timeoutMs?: number };

export type ConnectionSettings = {
  queryTimeoutMs: number;
  /** How long close() waits for queries still running, then for the server to end the session. */
  closeTimeoutMs: number;
  limits: RunLimits;
  onNotice: ((notice: PgNotice) => void) | null;
  onNotification: ((notification: PgNotification) => void) | null;
  /** Sends a CancelRequest for this session; null when there is no key data. */
  cancel: (() => Promise<void>) | null;
};

export type PgConnection = {
  query(sql: string, params?: readonly Param[], options?: QueryOptions): Promise<QueryResult>;
  /** Runs the statements in one implicit transaction; all results, or the first error (see pipeline-run.ts). */
  pipeline(statements: readonly Statement[], options?: QueryOptions): Promise<QueryResult[]>;
  /** From the last ReadyForQuery: 'in_transaction' after BEGIN, 'failed' after an error inside it. */
  readonly transactionStatus: TransactionStatus;
  readonly processId: number | null;
  /** A parameter the server reported (server_version, TimeZone...), or null. */
  parameter(name: string): string | null;
  /** False once closing, closed or broken: no new query is taken. */
  readonly isOpen: boolean;
  /** Queries running or waiting on this connection. */
  readonly pending: number;
  /** Waits (up to closeTimeoutMs) for queries already taken, sends Terminate, waits for the server to close. */
  close(): Promise<void>;
  /** Ends the session now; queries still held reject with 'connection_closed'. */
  destroy(): void;
  /** Settles once the socket is gone (and a CancelRequest, if one was sent, is done). Never rejects. */
  readonly closed: Promise<void>;
};

type Job = { statementCount: number; bytes: Buffer; run: PipelineRun | null; done: boolean; settle: (outcome: RunOutcome) => void };

export function createConnection(socket: Socket, reader: MessageReader, session: Session, leftovers: BackendMessage[], settings: ConnectionSettings): PgConnection {
  let state: 'open' | 'closing' | 'closed' = 'open';
  let status = session.status;
  const queue: Job[] = [];
  let active: Job | null = null;
  let idleWaiters: (() => void)[] = [];
  let cancelling: Promise<void> = Promise.resolve();
  const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const closed = socketClosed.then(() => cancelling);
  const maxRows = settings.limits.maxRows;

  function pump(): void {
    if (active !== null || state === 'closed') return;
    const job = queue.shift();
    if (job === undefined) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
      return;
    }
    active = job;
    job.run = createPipelineRun(job.statementCount, settings.limits);
    socket.write(job.bytes);
  }

  function fail(error: Error): void {
    if (state === 'closed') return;
    state = 'closed';
    const held = active === null ? queue.splice(0) : [active, ...queue.splice(0)];
    active = null;
    for (const job of held) job.settle({ ok: false, error: job.run?.serverError() ?? error });
    socket.destroy();
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function onTimeout(job: Job): void {
    const timeout = new PgClientError('query_timeout');
    if (job !== active) {
      queue.splice(queue.indexOf(job), 1);
      job.settle({ ok: false, error: timeout });
      return;
    }
    job.settle({ ok: false, error: timeout });
    if (settings.cancel !== null) cancelling = settings.cancel();
    fail(new PgClientError('connection_closed', 'destroyed after a query timeout'));
  }

  function dispatch(message: BackendMessage): void {
    if (message.type === 'N') return deliverNotice(message.body, settings.onNotice);
    if (message.type === 'S') {
      const refused = applyParameterStatus(session.parameters, message.body);
      if (refused !== null) throw refused;
      return;
    }
    if (message.type === 'A') return deliverNotification(message.body);
    const job = active;
    if (job === null || job.run === null) {
      if (message.type === 'E') throw serverError(message.body);
      throw new PgClientError('protocol_violation', 'a message while no query runs');
    }
    if (!job.run.accept(message)) return;
    status = decodeReadyForQuery(message.body);
    active = null;
    job.settle(job.run.outcome());
    pump();
  }

  function deliverNotification(body: Buffer): void {
    const notification = decodeNotification(body);
    try {
      settings.onNotification?.(notification);
    } catch {
      // The caller's bug, not the connection's: the next message must still be read.
    }
  }

  function receive(messages: readonly BackendMessage[]): void {
    for (const message of messages) {
      if (state === 'closed') return;
      try {
        dispatch(message);
      } catch (error) {
        return fail(error as Error);
      }
    }
  }

  socket.on('data', (chunk: Buffer) => {
    if (state === 'closed') return;
    let messages: BackendMessage[];
    try {
      messages = reader.push(chunk);
    } catch (error) {
      return fail(error as Error);
    }
    receive(messages);
  });
  socket.on('error', (error) => fail(new PgClientError('connection_lost', null, { cause: error })));
  socket.on('close', () => fail(new PgClientError('connection_lost')));
  receive(leftovers);

  function pipeline(statements: readonly Statement[], options: QueryOptions = {}): Promise<QueryResult[]> {
    if (state !== 'open') return Promise.reject(new PgClientError('connection_closed'));
    const timeoutMs = options.timeoutMs ?? settings.queryTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2_147_483_647) {
      return Promise.reject(new PgClientError('invalid_options', 'timeoutMs must be a whole number of milliseconds'));
    }
    if (statements.length === 0) return Promise.resolve([]);
    let bytes: Buffer;
    try {
      // With a row limit, Execute asks for one row more than allowed, so going over is seen.
      bytes = extendedQuery(statements, maxRows === null ? 0 : maxRows + 1);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        statementCount: statements.length,
        bytes,
        run: null,
        done: false,
        settle(outcome) {
          if (job.done) return;
          job.done = true;
          clearTimeout(timer);
          if (outcome.ok) resolve(outcome.results);
          else reject(outcome.error);
        },
      };
      const timer = setTimeout(() => onTimeout(job), timeoutMs);
      queue.push(job);
      pump();
    });
  }

  function whenIdle(timeoutMs: number): Promise<void> {
    if (active === null && queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  return {
    query: (sql, params = [], options = {}) => pipeline([{ sql, params }], options).then((results) => results[0] as QueryResult),
    pipeline,
    get transactionStatus() {
      return status;
    },
    processId: session.processId,
    parameter: (name) => session.parameters.get(name) ?? null,
    get isOpen() {
      return state === 'open';
    },
    get pending() {
      return (active === null ? 0 : 1) + queue.length;
    },
    async close() {
      if (state === 'open') {
        state = 'closing';
        await whenIdle(settings.closeTimeoutMs);
        if (active !== null || queue.length > 0) {
          fail(new PgClientError('connection_closed', 'closed while a query was running'));
        } else if (state === 'closing') {
          // Terminate, then the server closes its end; a server that does not is cut off.
          socket.end(terminate());
          const timer = setTimeout(() => fail(new PgClientError('connection_closed')), settings.closeTimeoutMs);
          void socketClosed.then(() => clearTimeout(timer));
        }
      }
      await closed;
    },
    destroy: () => fail(new PgClientError('connection_closed')),
    closed,
  };
}
