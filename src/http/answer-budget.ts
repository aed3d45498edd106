// The bytes of answers written but not yet taken by their clients, over all connections. A client
// that stops reading leaves its answer queued in this process's memory for as long as the
// connection lives (up to the 120 s idle timeout): without a bound, clients asking for large pages
// and never reading them could hold enough to exhaust memory. A large answer that does not fit is
// replaced by a 503 with Retry-After; small ones always go, since the one-at-a-time rule per
// connection (dispatch.ts) and MAX_CONNECTIONS already bound what they hold.
import type { ServerResponse } from 'node:http';

/** Answers up to this size are never refused (error answers, probes, single messages). */
export const SMALL_ANSWER_BYTES = 16 * 1024;

export type AnswerBudget = {
  /** Whether an answer of `bytes` would be sent now. */
  fits(bytes: number): boolean;
  /** Charges an answer to the budget until its response finishes or closes; false when it does not fit. */
  charge(res: ServerResponse, bytes: number): boolean;
  /** Bytes charged now, for metrics. */
  held(): number;
};

export function createAnswerBudget(limit: number): AnswerBudget {
  let held = 0;
  const fits = (bytes: number) => bytes <= SMALL_ANSWER_BYTES || held + bytes <= limit;
  return {
    fits,
    charge(res, bytes) {
      if (bytes <= SMALL_ANSWER_BYTES) return true;
      if (!fits(bytes)) return false;
      held += bytes;
      let returned = false;
      const giveBack = () => {
        if (!returned) held -= bytes;
        returned = true;
      };
      res.once('finish', giveBack);
      res.once('close', giveBack);
      return true;
    },
    held: () => held,
  };
}
