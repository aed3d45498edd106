// Runs write batches (message-batch.ts) for the write queue, and turns every way one can fail into
// the contract's answers. A batch resolves only once its transaction has committed: the pipeline's
// Sync commits it and ReadyForQuery follows the commit, with synchronous_commit at least 'on' on
// every write session (open-database.ts), so the commit record is flushed before we answer.
//
// - A serialization failure or deadlock rolled the batch back: it runs again, a bounded number of
//   times with growing, jittered pauses. (With the lock order of message-batch.ts, deadlocks should
//   not happen; if one does, the retry is still correct.)
// - A row-level error (a data exception or constraint) rolled back the whole batch, yet is one
//   message's fault: the batch is written again one message at a time, so the others are stored
//   and only the guilty one fails.
// - A connection lost or a timeout after sending: the commit may or may not have happened, so the
//   answer is connection_lost, which is safe to retry (a stored message comes back a duplicate).
//   Anything else stored nothing: commit_failed.
import { MessageWriteError, StoreUnavailableError, type InsertResult } from '../store.ts';
import type { Settled } from '../write-queue.ts';
import { errorCode, outcomeUnknown, rowFault, worthRetrying } from './error-codes.ts';
import type { LockKey } from './lock-keys.ts';
import { batchResults, batchStatements, planBatch, type WriteRequest } from './message-batch.ts';
import type { KeyedHash } from './tombstone-key.ts';
import type { Pool } from './wire/client.ts';

/** How many times a batch runs at most when it keeps losing races (40001, 40P01). */
const MAX_ATTEMPTS = 4;
const RETRY_BASE_MS = 10;

export type BatchWriterOptions = {
  pool: Pool;
  gate: LockKey;
  keyedHash: KeyedHash;
  /** Each retry, with the SQLSTATE class (two characters) that caused it. */
  onRetry: (sqlStateClass: string) => void;
  /** Each batch that fails for good, with its error: log only its code (error-codes.ts). */
  onFailure: (error: unknown) => void;
  /** Milliseconds a batch may take from sending to commit before it counts as lost. */
  timeoutMs: number;
};

export type BatchWriter = (requests: WriteRequest[]) => Promise<Settled<InsertResult>[]>;

export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const { pool, gate, keyedHash, onRetry, onFailure, timeoutMs } = options;

  async function write(requests: readonly WriteRequest[]): Promise<InsertResult[]> {
    const plan = planBatch(requests);
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await pool.pipeline(batchStatements(plan, gate, keyedHash), { timeoutMs });
        const inserted = results[1];
        if (inserted === undefined) throw new Error('the batch pipeline returned no insert result');
        return batchResults(requests, plan, inserted);
      } catch (error) {
        if (!worthRetrying(error) || attempt >= MAX_ATTEMPTS) throw error;
        onRetry(errorCode(error).slice(0, 2));
        await pause(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  function unavailable(error: unknown): StoreUnavailableError {
    onFailure(error);
    return new StoreUnavailableError(outcomeUnknown(error) ? 'connection_lost' : 'commit_failed');
  }

  /**
   * Not a failure of the batch (it committed without the message), so not reported to onFailure:
   * the request's own line gives the SQLSTATE, from the error, as on SQLite.
   */
  function refused(error: unknown): Settled<InsertResult> {
    return { ok: false, error: new MessageWriteError(errorCode(error)) };
  }

  /** Each message in a transaction of its own, after a row-level error failed them together. */
  async function writeOneByOne(requests: readonly WriteRequest[]): Promise<Settled<InsertResult>[]> {
    const settled: Settled<InsertResult>[] = [];
    for (const request of requests) {
      try {
        const [result] = await write([request]);
        settled.push({ ok: true, value: result as InsertResult });
      } catch (error) {
        if (!rowFault(error)) throw unavailable(error);
        settled.push(refused(error));
      }
    }
    return settled;
  }

  return async (requests) => {
    try {
      return (await write(requests)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (!rowFault(error)) throw unavailable(error);
      return requests.length === 1 ? [refused(error)] : writeOneByOne(requests);
    }
  };
}

/** Half fixed, half random ("equal jitter"), so replicas that collided do not collide again in step. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms / 2 + (Math.random() * ms) / 2));
}
