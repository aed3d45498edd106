// What the main thread and the writer thread say to each other (write-thread.ts and
// write-worker.ts): plain data, so it crosses the thread boundary by structured clone.
import type { BatchOutcome, WriteRequest } from './write-batch.ts';

export type ToWriter = { kind: 'write'; requests: readonly WriteRequest[] } | { kind: 'close' };

export type FromWriter =
  | { kind: 'ready' }
  | { kind: 'failed'; code: string | undefined }
  | { kind: 'written'; outcome: BatchOutcome }
  | { kind: 'index_failed'; code: string };
