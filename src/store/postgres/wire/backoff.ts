// How long to wait before the next connection attempt after consecutive failures: doubling from
// `initialMs`, never above `maxMs`, so a database that is down is not hammered by every request.
// Half the delay is random ("equal jitter"), so many processes that lost the database at the same
// moment do not all come back in the same millisecond, and no attempt comes sooner than half.

export type BackoffOptions = { initialMs: number; maxMs: number };

export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
