// What the main thread and the writer thread say to each other (write-thread.ts and
// write-worker.ts): plain data, so it crosses the thread boundary by structured clone. The writer
// answers every request in the order it came, so the main thread matches answers to requests by
// order alone. Failures carry codes only: error messages may quote SQL or data.
import type { BatchOutcome, WriteRequest } from './write-batch.ts';

/** Deletes, one transaction each (message-eraser.ts); answered with how many rows they removed. */
export type EraseRequest =
  | { kind: 'erase_message'; messageId: string; erasedAt: string }
  | { kind: 'erase_sender'; from: string; erasedAt: string; limit: number }
  | { kind: 'purge_received'; cutoff: string; erasedAt: string; limit: number }
  | { kind: 'purge_tombstones'; cutoff: string; limit: number };

export type ToWriter = { kind: 'write'; requests: readonly WriteRequest[] } | EraseRequest | { kind: 'close' };

/** How many rows a delete removed, and how long its transaction held the writer (to pace the next). */
export type EraseOutcome = { ok: true; count: number; ms: number } | { ok: false; code: string };

export type FromWriter =
  | { kind: 'ready' }
  | { kind: 'failed'; code: string | undefined }
  | { kind: 'written'; outcome: BatchOutcome }
  | { kind: 'erased'; outcome: EraseOutcome }
  | { kind: 'index_failed'; code: string };
