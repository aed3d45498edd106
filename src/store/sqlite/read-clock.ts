// The clock of the read a reader thread is running: its deadline, and how much CPU the thread may
// take. SQLite calls read_tick() every 1,024 rows a listing reads (message-queries.ts, TICK).
//
// - Deadline: past it, tick() throws, which aborts the statement at once, and the thread answers
//   read_timeout and takes the next read. Without it, a statement would run to its end in SQLite's
//   C code, where nothing can stop it, not even terminating the thread (read-pool.ts does that only
//   when a read outlives its deadline by a grace period).
// - CPU share: a low priority alone does not protect ingest on a machine with a core to spare: a
//   scan then takes that core, and slows the threads that ingest through the caches and memory
//   they share (measured: a second process scanning the same file left ingest at 63 to 69% of its
//   rate). So the thread keeps a budget: it earns `cpuShare` of a millisecond of CPU per
//   millisecond of wall time, up to BURST_MS saved, spends what it uses, and when it is in debt it
//   sleeps until the debt is paid (or the deadline comes). A read cheaper than the burst never
//   waits; a scan runs at `cpuShare` of a core, averaged.

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
  /** Throws ReadDeadlineExceeded once the deadline has passed; sleeps while over the CPU budget. */
  tick(): void;
};

export type ReadClockOptions = {
  now?: () => number;
  /** Share of one core the thread may use over time, above 0 and at most 1 (1: no pacing). */
  cpuShare?: number;
  /** This thread's CPU time and a monotonic wall clock, in milliseconds; a blocking sleep. */
  cpuMs?: () => number;
  wallMs?: () => number;
  sleep?: (ms: number) => void;
};

/** CPU a thread may spend at full speed after a rest: a cheap read never waits. */
export const BURST_MS = 50;

export function createReadClock({
  now = Date.now,
  cpuShare = 1,
  cpuMs = threadCpuMs,
  wallMs = () => performance.now(),
  sleep = sleepThisThread,
}: ReadClockOptions = {}): ReadClock {
  let deadline = Infinity;
  let credit = BURST_MS;
  let lastWall = wallMs();
  let lastCpu = cpuMs();

  function pace(): void {
    const wall = wallMs();
    const cpu = cpuMs();
    credit = Math.min(BURST_MS, credit + (wall - lastWall) * cpuShare) - (cpu - lastCpu);
    lastWall = wall;
    lastCpu = cpu;
    if (credit >= 0) return;
    // Never past the deadline: the read is then abandoned below, and its debt carries over.
    const pause = Math.min(-credit / cpuShare, Math.max(0, deadline - now()));
    if (pause > 0) sleep(pause);
  }

  return {
    start(until) {
      deadline = until;
    },
    tick() {
      if (cpuShare < 1) pace();
      if (now() > deadline) throw new ReadDeadlineExceeded();
    },
  };
}

function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread (a reader thread: never the event loop's, see read-worker.ts). */
function sleepThisThread(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
