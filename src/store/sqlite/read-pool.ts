// The main thread's handle on the reader threads (read-worker.ts). Each thread has its own read-only
// connection and runs one read at a time; reads wait here for a free thread. Every read ends by its
// deadline: the thread itself abandons a read at the deadline (read-clock.ts), and a read still
// running a grace period later (stuck where no tick reaches, such as sorting) has its thread
// stopped and replaced while the others keep serving. A thread that dies is replaced too.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../observability/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { FeedPositionError, ReadFailedError, ReadUnavailableError } from '../store.ts';
import type { FromReader, ReadRequest, ReadValue, ToReader } from './reader-messages.ts';

export type ReadPoolOptions = {
  path: string;
  threads: number;
  /** Share of one core each thread may use over time (read-clock.ts); 1 leaves it unpaced. */
  cpuShare?: number;
  log?: Logger;
  metrics?: Metrics;
  /** How long a read may outlive its deadline before its thread is stopped. */
  graceMs?: number;
};

export type ReadPool = {
  /** Runs a read on the next free thread; rejects with ReadUnavailableError past `deadline`. */
  run(request: ReadRequest, deadline: number): Promise<ReadValue>;
  /** Stops every thread; reads still waiting or running are refused. */
  close(): Promise<void>;
};

type Job = { id: number; request: ReadRequest; deadline: number; resolve: (value: ReadValue) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
type Slot = { worker: Worker; job: Job | null };

/**
 * What one reader thread may allocate: a page is at most MAX_PAGE_BYTES of messages, so a thread
 * that needs more than this is broken, and it is stopped (and replaced) instead of growing the
 * process.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };
const DEFAULT_GRACE_MS = 250;
/** Between attempts to start a thread again after one failed to open the database. */
const RESPAWN_DELAY_MS = 1_000;

export async function startReadPool({ path, threads, cpuShare = 1, log, metrics, graceMs = DEFAULT_GRACE_MS }: ReadPoolOptions): Promise<ReadPool> {
  const slots = new Set<Slot>();
  const waiting: Job[] = [];
  let nextId = 1;
  let closed = false;
  const cpuSeconds = metrics?.counter({ name: 'read_cpu_seconds_total', help: 'CPU time reader threads spent on reads, in seconds.' });
  cpuSeconds?.inc({}, 0);
  const replaced = metrics?.counter({
    name: 'reader_threads_replaced_total',
    help: 'Reader threads stopped and replaced: a read outlived its deadline, or the thread died.',
    labelNames: ['reason'],
  });
  for (const reason of ['deadline', 'died']) replaced?.inc({ reason }, 0);

  function spawn(): Promise<Slot> {
    const worker = new Worker(new URL('./read-worker.ts', import.meta.url), { workerData: { path, cpuShare }, resourceLimits: RESOURCE_LIMITS });
    const slot: Slot = { worker, job: null };
    // An error in the thread is followed by 'exit', which does the cleanup.
    worker.on('error', () => {});
    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromReader) => {
        if (message.kind === 'ready') {
          slots.add(slot);
          resolve(slot);
          dispatch();
        } else if (message.kind === 'failed') {
          reject(Object.assign(new Error('a reader thread cannot open the database'), { code: message.code }));
        } else {
          answered(slot, message);
        }
      });
      worker.once('exit', () => {
        reject(new Error('a reader thread stopped before opening the database'));
        if (!slots.delete(slot) || closed) return;
        // Not stopped by us (that removes the slot first): it died, and its read with it.
        replaced?.inc({ reason: 'died' });
        log?.log('ERROR', { msg: 'a reader thread died: its read answered 503, the thread replaced' });
        slot.job?.reject(new ReadUnavailableError('read_unavailable'));
        replace();
      });
    });
  }

  function replace(): void {
    if (closed) return;
    spawn().catch(() => setTimeout(replace, RESPAWN_DELAY_MS).unref());
  }

  function answered(slot: Slot, { id, cpuMs, outcome }: Extract<FromReader, { kind: 'answer' }>): void {
    cpuSeconds?.inc({}, cpuMs / 1000);
    const job = slot.job;
    if (job === null || job.id !== id) return;
    slot.job = null;
    clearTimeout(job.timer);
    if (outcome.ok) job.resolve(outcome.value);
    else if (outcome.reason === 'read_timeout') job.reject(new ReadUnavailableError('read_timeout'));
    else if (outcome.reason === 'feed_position') job.reject(new FeedPositionError());
    else job.reject(new ReadFailedError(outcome.code));
    dispatch();
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.job !== null) continue;
      const job = waiting.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.worker.postMessage({ kind: 'read', id: job.id, deadline: job.deadline, request: job.request } satisfies ToReader);
    }
  }

  /** The job's deadline and grace have passed: refuse it, and stop its thread if it is running. */
  function overdue(job: Job): void {
    const queued = waiting.indexOf(job);
    if (queued !== -1) waiting.splice(queued, 1);
    for (const slot of slots) {
      if (slot.job !== job) continue;
      slots.delete(slot);
      void slot.worker.terminate();
      replaced?.inc({ reason: 'deadline' });
      log?.log('WARN', { msg: 'a read outlived its deadline: its reader thread was stopped and replaced' });
      replace();
    }
    job.reject(new ReadUnavailableError('read_timeout'));
  }

  await Promise.all(Array.from({ length: threads }, spawn));

  return {
    run(request, deadline) {
      if (closed) return Promise.reject(new ReadUnavailableError('read_unavailable'));
      return new Promise<ReadValue>((resolve, reject) => {
        const job: Job = { id: nextId++, request, deadline, resolve, reject, timer: setTimeout(() => overdue(job), Math.max(0, deadline - Date.now()) + graceMs) };
        waiting.push(job);
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) {
        clearTimeout(job.timer);
        job.reject(new ReadUnavailableError('read_unavailable'));
      }
      const stopping = [...slots].map((slot) => {
        if (slot.job !== null) {
          clearTimeout(slot.job.timer);
          slot.job.reject(new ReadUnavailableError('read_unavailable'));
        }
        return slot.worker.terminate();
      });
      slots.clear();
      await Promise.all(stopping);
    },
  };
}
