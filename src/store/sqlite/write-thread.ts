// The main thread's handle on the writer thread (write-worker.ts): it sends batches and returns
// their outcomes as promises. If the thread stops for any reason (a crash, running out of memory,
// terminate()), every write still waiting for an answer is rejected, later writes are rejected at
// once, and isAlive() turns false so readiness fails: nothing ever waits for a dead writer.
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../store.ts';
import type { BatchOutcome, WriteRequest } from './write-batch.ts';
import type { EraseOutcome, EraseRequest, FromWriter, ToWriter } from './writer-messages.ts';

export type WriteThread = {
  write(requests: readonly WriteRequest[]): Promise<BatchOutcome>;
  erase(request: EraseRequest): Promise<EraseOutcome>;
  isAlive(): boolean;
  /** Closes the write connection after the batches already sent, and ends the thread. */
  close(): Promise<void>;
  /** Stops the thread at once: a batch being written is abandoned (SQLite rolls it back). */
  terminate(): Promise<void>;
};

export type WriteThreadOptions = {
  path: string;
  /** Called once if the thread stops without close() having been asked for. */
  onUnexpectedExit?: (exitCode: number) => void;
  /** Called when the search index could not be brought up to date (the first of a run of failures). */
  onIndexError?: (code: string) => void;
};

/** Starts the writer thread and resolves once it has opened the database (or rejects if it cannot). */
export function startWriteThread({ path, onUnexpectedExit, onIndexError }: WriteThreadOptions): Promise<WriteThread> {
  const worker = new Worker(new URL('./write-worker.ts', import.meta.url), { workerData: { path } });
  // Answers come in the order of the requests (writer-messages.ts).
  const pending: { resolve: (outcome: BatchOutcome | EraseOutcome) => void; reject: (error: Error) => void }[] = [];
  function send<Outcome>(message: ToWriter): Promise<Outcome> {
    if (!alive) return Promise.reject(new StoreUnavailableError('writer_stopped'));
    return new Promise((resolve, reject) => {
      pending.push({ resolve: resolve as (outcome: BatchOutcome | EraseOutcome) => void, reject });
      worker.postMessage(message);
    });
  }
  let alive = true;
  let started = false;
  let closing = false;
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (exitCode) => {
      alive = false;
      for (const request of pending.splice(0)) request.reject(new StoreUnavailableError('writer_stopped'));
      if (started && !closing) onUnexpectedExit?.(exitCode);
      resolve();
    });
  });
  // An uncaught exception in the thread is followed by 'exit', which does the cleanup above.
  worker.on('error', () => {});

  const thread: WriteThread = {
    write: (requests) => send<BatchOutcome>({ kind: 'write', requests }),
    erase: (request) => send<EraseOutcome>(request),
    isAlive: () => alive,
    async close() {
      closing = true;
      if (alive) worker.postMessage({ kind: 'close' } satisfies ToWriter);
      await exited;
    },
    async terminate() {
      await worker.terminate();
      await exited;
    },
  };

  return new Promise((resolve, reject) => {
    worker.on('message', (message: FromWriter) => {
      if (message.kind === 'written' || message.kind === 'erased') {
        pending.shift()?.resolve(message.outcome);
      } else if (message.kind === 'index_failed') {
        onIndexError?.(message.code);
      } else if (message.kind === 'ready') {
        started = true;
        resolve(thread);
      } else {
        reject(Object.assign(new Error('the writer thread cannot open the database'), { code: message.code }));
      }
    });
    void exited.then(() => reject(new Error('the writer thread stopped before opening the database')));
  });
}
