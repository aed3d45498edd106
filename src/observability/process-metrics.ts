// The standard process families a Node service is expected to expose, read at scrape time. They
// describe the process, so the entry point registers them once; an app's own families live in
// request-metrics.ts, and the store registers its own.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Gauge, Metrics } from './metrics.ts';

const EVENT_LOOP_RESOLUTION_MS = 10;
const FD_DIRECTORY = '/proc/self/fd';

export function registerProcessMetrics(metrics: Metrics): void {
  let cpuMicrosReported = 0;
  metrics.counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent by the process, in seconds.',
    collect(counter) {
      // The counter mirrors a total the operating system keeps: add what it grew since last time.
      const { user, system } = process.cpuUsage();
      counter.inc({}, (user + system - cpuMicrosReported) / 1e6);
      cpuMicrosReported = user + system;
    },
  });
  metrics.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident set size of the process, in bytes.',
    collect: (gauge) => gauge.set({}, process.memoryUsage.rss()),
  });
  const startTimeSeconds = Math.round(Date.now() - process.uptime() * 1000) / 1000;
  metrics.gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds.',
    collect: (gauge) => gauge.set({}, startTimeSeconds),
  });
  // Open descriptors are counted where the kernel lists them (Linux); elsewhere the family is absent.
  if (existsSync(FD_DIRECTORY)) {
    metrics.gauge({
      name: 'process_open_fds',
      help: 'Open file descriptors of the process.',
      // Listing the directory opens one descriptor of its own, which is not counted.
      collect: async (gauge) => gauge.set({}, (await readdir(FD_DIRECTORY)).length - 1),
    });
  }
  registerEventLoopDelay(metrics);
}

/** Upper bounds of the event-loop delay histogram, in seconds. */
const DELAY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Event-loop delay, cumulative since the process started, so that every scraper sees the same
 * figures and a stall cannot hide between two scrapes of someone else:
 * - a histogram (nodejs_eventloop_delay_seconds) of how late a timer due every 10 ms ran, for
 *   windowed percentiles: histogram_quantile(0.99, rate(nodejs_eventloop_delay_seconds_bucket[5m]));
 * - the summary gauges perf_hooks keeps (mean, percentiles, max), never reset.
 * Neither timer keeps the process alive.
 */
function registerEventLoopDelay(metrics: Metrics): void {
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const histogram = metrics.histogram({
    name: 'nodejs_eventloop_delay_seconds',
    help: 'How late a timer due every 10 ms ran, in seconds: the delay any callback would have seen.',
    buckets: DELAY_BUCKETS_SECONDS,
  });
  let expected = performance.now() + EVENT_LOOP_RESOLUTION_MS;
  setInterval(() => {
    const now = performance.now();
    histogram.observe({}, Math.max(0, now - expected) / 1000);
    expected = now + EVENT_LOOP_RESOLUTION_MS;
  }, EVENT_LOOP_RESOLUTION_MS).unref();

  // perf_hooks records the time between sampling ticks, the resolution included: subtract it, so an
  // idle loop reads near zero and a value is the delay a callback would have seen.
  const seconds = (nanoseconds: number) => Math.max(0, Math.round(nanoseconds - EVENT_LOOP_RESOLUTION_MS * 1e6)) / 1e9;
  const gauge = (name: string, help: string): Gauge => {
    const made = metrics.gauge({ name, help });
    made.set({}, 0);
    return made;
  };
  const mean = gauge('nodejs_eventloop_lag_seconds', 'Mean event-loop delay since the process started, in seconds.');
  const p50 = gauge('nodejs_eventloop_lag_p50_seconds', 'Median event-loop delay since the process started, in seconds.');
  const p90 = gauge('nodejs_eventloop_lag_p90_seconds', '90th percentile of event-loop delay since the process started, in seconds.');
  const p99 = gauge('nodejs_eventloop_lag_p99_seconds', '99th percentile of event-loop delay since the process started, in seconds.');
  metrics.gauge({
    name: 'nodejs_eventloop_lag_max_seconds',
    help: 'Longest event-loop delay since the process started, in seconds.',
    // One read sets every event-loop gauge, so they describe the same moment.
    collect(max) {
      if (delay.count === 0) return;
      mean.set({}, seconds(delay.mean));
      p50.set({}, seconds(delay.percentile(50)));
      p90.set({}, seconds(delay.percentile(90)));
      p99.set({}, seconds(delay.percentile(99)));
      max.set({}, seconds(delay.max));
    },
  }).set({}, 0);
}
