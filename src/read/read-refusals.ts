// A read the store or the read gate refused becomes a 503 with Retry-After (safe to retry: nothing
// was changed), its reason in the request's log line and in read_refused_total.
import { HttpError } from '../http/http-error.ts';
import type { LogFields } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ReadUnavailableError, type ReadRefusal } from '../store/store.ts';

const REASONS: readonly ReadRefusal[] = ['read_timeout', 'read_busy', 'read_unavailable', 'answer_budget'];

/** Awaits a read; a refusal becomes HttpError('unavailable') with its reason logged and counted. */
export type RefusalMapper = <T>(read: Promise<T>, logFields: LogFields) => Promise<T>;

export function createRefusalMapper(metrics: Metrics): RefusalMapper {
  const refused = metrics.counter({
    name: 'read_refused_total',
    help: 'Reads answered 503: past their deadline, too many at once, the database unreachable, or no room for their answer.',
    labelNames: ['reason'],
  });
  for (const reason of REASONS) refused.inc({ reason }, 0);
  return async (read, logFields) => {
    try {
      return await read;
    } catch (error) {
      if (!(error instanceof ReadUnavailableError)) throw error;
      logFields.reason = error.reason;
      refused.inc({ reason: error.reason });
      throw new HttpError('unavailable');
    }
  };
}
