// A reader thread's entry point (started by read-pool.ts, never imported). It owns one read-only
// connection and answers one read at a time, off the event loop that serves HTTP, at the lowest CPU
// priority (thread-priority.ts) and within its share of a core, and abandons a read at its deadline
// (read-clock.ts). Nothing here can write: the connection is opened read-only.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { FeedPositionError } from '../store.ts';
import { prepareFeedQueries } from './feed-queries.ts';
import { prepareMessageQueries } from './message-queries.ts';
import { createReadClock, ReadDeadlineExceeded } from './read-clock.ts';
import type { FromReader, ReadFailure, ReadRequest, ReadValue, ToReader } from './reader-messages.ts';
import { lowerThisThreadPriority } from './thread-priority.ts';
import { sqliteErrorCode } from './sqlite-error.ts';

const port = parentPort;
if (port === null) throw new Error('read-worker.ts runs as a worker thread, started by read-pool.ts');
const reply = (message: FromReader) => port.postMessage(message);

lowerThisThreadPriority();
const { path, cpuShare } = workerData as { path: string; cpuShare: number };
const db = openOrReport(path);
if (db !== null) {
  const clock = createReadClock({ cpuShare });
  const queries = prepareMessageQueries(db, clock.tick);
  const feed = prepareFeedQueries(db);
  const run = (request: ReadRequest): ReadValue => {
    if (request.kind === 'list') return queries.listMessages(request.query);
    if (request.kind === 'stats') return queries.stats();
    return feed(request.request);
  };
  port.on('message', ({ id, deadline, request }: ToReader) => {
    const cpuBefore = process.threadCpuUsage();
    clock.start(deadline);
    let outcome: { ok: true; value: ReadValue } | ({ ok: false } & ReadFailure);
    try {
      outcome = { ok: true, value: run(request) };
    } catch (error) {
      outcome = { ok: false, ...failureOf(error) };
    }
    const cpu = process.threadCpuUsage(cpuBefore);
    reply({ kind: 'answer', id, cpuMs: (cpu.user + cpu.system) / 1000, outcome });
  });
  reply({ kind: 'ready' });
}

function failureOf(error: unknown): ReadFailure {
  if (error instanceof ReadDeadlineExceeded) return { reason: 'read_timeout' };
  if (error instanceof FeedPositionError) return { reason: 'feed_position' };
  return { reason: 'error', code: sqliteErrorCode(error) };
}

function openOrReport(path: string): DatabaseSync | null {
  try {
    const opened = new DatabaseSync(path, { readOnly: true });
    // A lock held from outside (a backup, an operator's shell) is waited for up to 5 s, as on the
    // writer's connection; a read's own deadline is usually shorter and ends it first.
    opened.exec('PRAGMA busy_timeout = 5000');
    return opened;
  } catch (error) {
    // Only the code crosses over: the message may name paths.
    reply({ kind: 'failed', code: error instanceof Error && 'code' in error ? String(error.code) : undefined });
    port?.close();
    return null;
  }
}
