// Loaded into each server the bench starts (`node --import ./scripts/bench-probe.ts ...`): measures
// event-loop delay from outside the code under test. SIGUSR2 resets the histogram (the bench sends
// it when the timed phase starts); at exit one line goes to stderr: `BENCH_PROBE {json}` with the
// delay percentiles in milliseconds, the CPU time the whole process (every thread) used since the
// reset, and the peak resident set size in bytes.
import { readFileSync, writeSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

// --import runs in worker threads too; the event loop that serves HTTP is the main thread's.
// The histogram records each interval between its timer's runs, sampling interval included: the
// figures below subtract it, so they are the delay alone. 10 ms, as the service's /metrics uses.
const RESOLUTION_MS = 10;

if (isMainThread) {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let cpuAtReset = process.cpuUsage();
  process.on('SIGUSR2', () => {
    delay.reset();
    cpuAtReset = process.cpuUsage();
  });
  process.on('exit', () => {
    const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4) / 100 - RESOLUTION_MS);
    const cpu = process.cpuUsage(cpuAtReset);
    const probe = {
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      eventLoopDelayP50Ms: ms(delay.percentile(50)),
      eventLoopDelayP99Ms: ms(delay.percentile(99)),
      eventLoopDelayMaxMs: ms(delay.max),
      peakRssBytes: peakRssBytes(),
    };
    writeSync(2, `BENCH_PROBE ${JSON.stringify(probe)}\n`);
  });
}

/**
 * VmHWM from /proc: the peak of this process alone. getrusage's maxRSS is no use here, as Linux
 * carries it over from the parent across fork and exec, and the parent is the load generator.
 */
function peakRssBytes(): number | null {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kib === undefined ? null : Number(kib) * 1024;
  } catch {
    return null;
  }
}
