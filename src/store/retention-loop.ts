// The retention loop both backends run around their own pass: the first pass soon after start (what
// expired while the service was down goes at once), then one every interval. A pass that deleted
// anything logs one `retention pass` line, the same on both backends so that one alert or query
// reads both; a pass that failed logs an ERROR with its code, and the next pass carries on. The
// loop alone never keeps the process alive; stop() waits for a pass under way, which looks at
// stopped() between its chunks.
import type { Logger } from '../observability/log.ts';

export type PurgeCounts = { messages: number; tombstones: number };

/** Between two passes (tests set it shorter). */
export const RETENTION_INTERVAL_MS = 60_000;
const FIRST_PASS_MS = 1_000;
const DAY_MS = 86_400_000;

/** When the first pass comes: a second after start, or one interval if that is shorter. */
export const firstPassAfter = (intervalMs: number) => Math.min(intervalMs, FIRST_PASS_MS);

/** The instant `days` days before `now`, as the stores keep instants (ISO 8601, UTC). */
export const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();

export type RetentionLoopOptions = {
  /** One pass: expired messages, then old tombstones, each in chunks. */
  pass(): Promise<PurgeCounts>;
  firstPassMs: number;
  intervalMs: number;
  log?: Logger;
  /** What of a failure may be logged: a code, never a message (it may quote SQL or data). */
  codeOf?: (error: unknown) => string | undefined;
};

export type RetentionLoop = {
  /** One pass now, logged as the loop logs its own. */
  purge(): Promise<PurgeCounts>;
  stopped(): boolean;
  stop(): Promise<void>;
};

export function startRetentionLoop({ pass, firstPassMs, intervalMs, log, codeOf }: RetentionLoopOptions): RetentionLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();

  async function purge(): Promise<PurgeCounts> {
    const counts = await pass();
    if (counts.messages > 0 || counts.tombstones > 0) {
      log?.log('INFO', { msg: 'retention pass', erased: counts.messages, tombstones_purged: counts.tombstones });
    }
    return counts;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = purge()
        .catch((error: unknown) => log?.log('ERROR', { msg: 'a retention pass failed; the next one carries on', code: codeOf?.(error) }))
        .finally(() => schedule(intervalMs));
    }, delayMs);
    timer.unref();
  }
  schedule(firstPassMs);

  return {
    purge,
    stopped: () => stopped,
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
