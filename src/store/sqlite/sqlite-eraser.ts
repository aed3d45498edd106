// Erasure and retention on SQLite, from the main thread: each delete is a request to the one writer
// (message-eraser.ts does the work there), in chunks, each its own transaction, so write batches go
// on between them and a crash leaves every chunk whole or untouched.
// - Erasure by sender deletes chunk after chunk until the sender has no message left.
// - Retention is a background loop: every pass erases, oldest first, the messages received
//   (created_at) more than retentionDays ago, each leaving a tombstone as an erasure does, then
//   deletes tombstones older than tombstoneDays. "Now" is the injected clock, so tests drive it.
//   It takes at most a fifth of the writer's time: after each chunk it pauses four times as long as
//   the chunk took, so write batches go on at four fifths of their pace or more, and a purge of
//   100,000 messages never holds the writer for long.
import type { Logger } from '../../observability/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { daysBefore, firstPassAfter, startRetentionLoop, type PurgeCounts } from '../retention-loop.ts';
import { registerErasures, type EraseReason } from '../store-metrics.ts';
import { StoreUnavailableError, type MessageEraser } from '../store.ts';
import type { EraseOutcome, EraseRequest } from './writer-messages.ts';

/** Rows per delete transaction of an erasure on request: a person's messages go in a few. */
const ERASE_CHUNK = 500;
/**
 * Rows per retention transaction: small, since every write batch that arrives meanwhile waits for
 * it (deletes touch pages all over the sender index, unlike inserts).
 */
const PURGE_CHUNK = 200;
/** The share of the writer's time a purge may take. */
const PURGE_SHARE = 0.2;

export type SqliteEraserOptions = {
  erase(request: EraseRequest): Promise<EraseOutcome>;
  now: () => Date;
  /** Null keeps messages for ever (tombstones still expire). */
  retentionDays: number | null;
  tombstoneDays: number;
  /** Between two retention passes. */
  intervalMs: number;
  log?: Logger;
  metrics?: Metrics;
};

export type SqliteErasure = {
  eraser: MessageEraser;
  /** Stops the loop; resolves once a pass under way has finished its current chunk. */
  stop(): Promise<void>;
};

export function startSqliteErasure({ erase, now, retentionDays, tombstoneDays, intervalMs, log, metrics }: SqliteEraserOptions): SqliteErasure {
  const erased = metrics === undefined ? () => {} : registerErasures(metrics);
  // The first pass soon after start: what expired while the service was down goes at once.
  const loop = startRetentionLoop({
    pass,
    firstPassMs: firstPassAfter(intervalMs),
    intervalMs,
    log,
    codeOf: (error) => (error instanceof StoreUnavailableError ? error.reason : undefined),
  });

  async function run(request: EraseRequest): Promise<{ count: number; ms: number }> {
    const outcome = await erase(request);
    if (outcome.ok) return outcome;
    // Nothing was erased in a failed chunk (it rolled back): a retry is safe. The same line as
    // PostgreSQL's, with SQLite's code.
    log?.log('ERROR', { msg: 'an erasure failed and was rolled back', code: outcome.code });
    throw new StoreUnavailableError('commit_failed');
  }

  /**
   * Repeats a chunked delete until a chunk comes back short of `limit`. Retention (`paced`) pauses
   * after each chunk so that its deletes take at most PURGE_SHARE of the writer, and ends its pass
   * when the loop stops; an erasure someone waits for runs to its end, or fails: never a partial
   * count that would read as done.
   */
  async function untilDone(chunk: () => EraseRequest, limit: number, reason: EraseReason | null, paced: boolean): Promise<number> {
    let total = 0;
    for (;;) {
      if (paced && loop.stopped()) return total;
      const { count, ms } = await run(chunk());
      total += count;
      if (reason !== null) erased(reason, count);
      if (count < limit) return total;
      if (paced) await new Promise((resolve) => setTimeout(resolve, (ms * (1 - PURGE_SHARE)) / PURGE_SHARE));
    }
  }

  async function pass(): Promise<PurgeCounts> {
    const at = now();
    const ago = (days: number) => daysBefore(at, days);
    const erasedAt = at.toISOString();
    const messages = retentionDays === null
      ? 0
      : await untilDone(() => ({ kind: 'purge_received', cutoff: ago(retentionDays), erasedAt, limit: PURGE_CHUNK }), PURGE_CHUNK, 'retention', true);
    const tombstones = await untilDone(() => ({ kind: 'purge_tombstones', cutoff: ago(tombstoneDays), limit: PURGE_CHUNK }), PURGE_CHUNK, null, true);
    return { messages, tombstones };
  }

  const eraser: MessageEraser = {
    async eraseMessage(messageId) {
      const { count } = await run({ kind: 'erase_message', messageId, erasedAt: now().toISOString() });
      erased('message', count);
      return count;
    },
    // Someone waits for this answer: chunk after chunk, with no pause (each is still a transaction
    // of its own, so write batches interleave).
    eraseSender: (from) => untilDone(() => ({ kind: 'erase_sender', from, erasedAt: now().toISOString(), limit: ERASE_CHUNK }), ERASE_CHUNK, 'sender', false),
  };

  return { eraser, stop: loop.stop };
}
