// The deadline of the read a reader thread is running. SQLite calls read_tick() every 1,024 rows a
// listing reads (message-queries.ts, TICK); past the deadline it throws, which aborts the statement
// at once, and the thread answers read_timeout and takes the next read. Without it, a statement
// would run to its end in SQLite's C code, where nothing can stop it, not even terminating the
// thread (read-pool.ts does that only when a read outlives its deadline by a grace period).

/** Thrown by tick() past the deadline; it reaches the read through SQLite unchanged. */
export class ReadDeadlineExceeded extends Error {
  constructor() {
    super('read deadline exceeded');
    this.name = 'ReadDeadlineExceeded';
  }
}

export type ReadClock = {
  /** Starts a read that must end by `deadline` (milliseconds since the Unix epoch). */
  start(deadline: number): void;
  /** Throws ReadDeadlineExceeded once the deadline has passed. */
  tick(): void;
};

export function createReadClock(now: () => number = Date.now): ReadClock {
  let deadline = Infinity;
  return {
    start(until) {
      deadline = until;
    },
    tick() {
      if (now() > deadline) throw new ReadDeadlineExceeded();
    },
  };
}
