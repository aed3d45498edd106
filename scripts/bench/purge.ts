// purge: what a retention purge costs ingest (target: at least 80% of the rate without a purge,
// p99 at most 2x). The database holds `expired` messages received (created_at) ten days ago, then
// as many received at seeding time; the service runs on a copy of it with RETENTION_DAYS=1, so its
// first retention pass, about a second after start (src/store/sqlite/sqlite-eraser.ts), erases the
// old ones in chunks of 500 while /webhook traffic runs flat out. The baseline is the same database
// and load without RETENTION_DAYS, run after it for as long as its timed phase lasted. Both poll
// /metrics ten times a second, so they cost the service the same, and the purge's progress is
// known to a tenth of a second.
//
// The purge starts during the warm-up and its length is not known beforehand: with the node
// generator the purge run's timed phase is held open until the purge has ended (at most
// MAX_PURGE_MS), and ingest's figures are also given over the part of it when the purge ran, which
// is what the target is about. The report says how many messages went before, during and after the
// timed phase; with wrk the timed phase is --duration, whatever the purge does.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, type Load } from './load.ts';
import { measure, rate, type BenchOptions, type Measurement } from './measure.ts';
import { cachedSeed, POOL_SIZE, removeDatabase, signedRequests, WEBHOOK_SECRET } from './requests.ts';
import { DATA } from './servers.ts';
import { growth, readsCell, scrapeMetrics } from './service-metrics.ts';
import { count, cpuPerCell, formatTable, latencyCells, percent, rssCell, storedCell, times } from './table.ts';

const DAY_MS = 86_400_000;
const RECEIVED_DAYS_AGO = 10;
const RETENTION_DAYS = '1';
const ERASED = 'messages_erased_total{reason="retention"}';
const POLL_MS = 100;
const MAX_PURGE_MS = 180_000;
/** With less of the timed phase than this under the purge, figures while purging would say nothing. */
const MIN_OVERLAP_MS = 1_000;

/** The retention counter over the run: when (performance.now()) it read what. */
type Sample = { at: number; erased: number };
type PurgeRun = { measured: Measurement; samples: Sample[]; answeredAt: number };
/** Ingest's figures over part of the timed phase. */
type Span = { from: number; to: number; rate: number; p50: number; p99: number };

export async function runPurge(options: BenchOptions, expired: number): Promise<string> {
  const total = 2 * expired;
  const seed = purgeSeed(expired, total);
  const purging = await measurePurge(options, seed, expired, true);
  // The baseline's timed phase is as long as the purge's turned out, so both see as much of
  // whatever else the machine is doing.
  const durationMs = Math.max(options.durationMs, Math.round(purging.measured.load.seconds * 1000));
  const baseline = await measurePurge({ ...options, durationMs }, seed, expired, false);
  return report(baseline, purging, expired, total);
}

/**
 * The seed is named after the day it was made: its recent messages are stamped with that moment
 * and expire a day later under RETENTION_DAYS=1, so a copy from an earlier day is seeded afresh.
 */
function purgeSeed(expired: number, total: number): string {
  const today = new Date().toISOString().slice(0, 10);
  const longAgo = new Date(Date.parse(today) - RECEIVED_DAYS_AGO * DAY_MS).toISOString();
  const now = new Date().toISOString();
  return cachedSeed(`purge-seed-${expired}-of-${total}-${today}`, total, (i) => (i < expired ? longAgo : now), 'purge-seed-');
}

async function measurePurge(options: BenchOptions, seed: string, expired: number, retention: boolean): Promise<PurgeRun> {
  const dbPath = join(DATA, 'run-purge.db');
  removeDatabase(dbPath);
  copyFileSync(seed, dbPath);
  const env: Record<string, string> = { WEBHOOK_SECRET, DATABASE_URL: `sqlite:///${dbPath}` };
  if (retention) env.RETENTION_DAYS = RETENTION_DAYS;
  const samples: Sample[] = [];
  let answeredAt = performance.now();
  const measured = await measure(options, {
    servers: [{ name: retention ? 'purge' : 'purge-baseline', env }],
    requests: signedRequests(`purge-${retention}-${Date.now()}`, POOL_SIZE, false),
    service: true,
    whileRunning: ([server]) => {
      answeredAt = performance.now();
      let running = true;
      const done = (async () => {
        while (running && server !== undefined) {
          const metrics = await scrapeMetrics(server.port).catch(() => null);
          if (metrics !== null) samples.push({ at: performance.now(), erased: metrics.get(ERASED) ?? 0 });
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      })();
      return {
        async stop() {
          running = false;
          await done;
        },
      };
    },
    holdOpen: () => retention && (samples.at(-1)?.erased ?? 0) < expired && performance.now() < answeredAt + MAX_PURGE_MS,
  });
  removeDatabase(dbPath);
  return { measured, samples, answeredAt };
}

/** Ingest's figures over [from, to], from the node generator's timeline; null when too short to say. */
function over(load: Load, from: number, to: number): Span | null {
  if (load.timeline === null || to - from < MIN_OVERLAP_MS) return null;
  const { finished, latencies } = load.timeline;
  const picked: number[] = [];
  for (let n = 0; n < finished.length; n++) if ((finished[n] as number) >= from && (finished[n] as number) <= to) picked.push(latencies[n] as number);
  const sorted = Float64Array.from(picked).sort();
  return { from, to, rate: sorted.length / ((to - from) / 1000), p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function report(baseline: PurgeRun, purging: PurgeRun, expired: number, total: number): string {
  const { samples, answeredAt, measured: { load, scrapes } } = purging;
  const erasedAt = (at: 'before' | 'after') => scrapes[0]?.[at].get(ERASED) ?? NaN;
  // The purge's span from the polls: from the last one before anything was erased to the first that
  // saw every expired message gone (none, if it outlasted the run).
  const firstErased = samples.findIndex((sample) => sample.erased > 0);
  const startedAt = firstErased < 0 ? null : (samples[Math.max(0, firstErased - 1)] as Sample).at;
  const endedAt = samples.find((sample) => sample.erased >= expired)?.at ?? null;
  const timedStart = load.timeline?.timedStart ?? null;
  const timedEnd = timedStart === null ? null : timedStart + load.seconds * 1000;
  const span = startedAt === null || timedStart === null || timedEnd === null
    ? null
    : over(load, Math.max(startedAt, timedStart), Math.min(endedAt ?? Infinity, timedEnd));
  const at = (instant: number) => `${((instant - answeredAt) / 1000).toFixed(1)} s`;

  const row = (name: string, { load: measuredLoad, probes, reads, scrapes: [scrape] }: Measurement) => {
    const probe = probes[0] ?? null;
    return [`${name} (${measuredLoad.seconds.toFixed(1)} s)` + (measuredLoad.exhausted ? ' (pool used up)' : ''), rate(measuredLoad).toFixed(0),
      ...latencyCells(measuredLoad), String(measuredLoad.non200), cpuPerCell(probe, measuredLoad.requests), rssCell(probe),
      probe?.eventLoopDelayP99Ms.toFixed(2) ?? '?', readsCell(reads), scrape === undefined ? '?' : count(growth(scrape.before, scrape.after, ERASED))];
  };
  const lines = [row('no purge', baseline.measured), row('purge, timed phase', purging.measured)];
  if (span !== null) {
    lines.push([`while purging (${((span.to - span.from) / 1000).toFixed(1)} s)`, span.rate.toFixed(0), span.p50.toFixed(2), span.p99.toFixed(2), '', '', '', '', '', '']);
  }
  const header = ['', 'req/s', 'p50 ms', 'p99 ms', 'non-200', 'CPU µs/req', 'peak RSS MB', 'loop p99 ms', 'reads p50/max ms', 'purged'];
  const out = [
    `purge: RETENTION_DAYS=${RETENTION_DAYS} on ${count(total)} messages, the first ${count(expired)} received ${RECEIVED_DAYS_AGO} days ago, /webhook load as unique`,
    formatTable(header, lines),
  ];

  if (startedAt === null) {
    out.push(`the purge erased nothing while the load ran: check the seed's created_at and RETENTION_DAYS`);
  } else {
    const end = endedAt === null ? 'was still running when the load ended' : `ended by ${at(endedAt)} (${count(expired / ((endedAt - startedAt) / 1000))} messages/s)`;
    const timed = timedStart === null || timedEnd === null
      ? 'wrk times the whole run, for --duration only: the node generator holds it open until the purge ends'
      : `timed phase ${at(timedStart)} to ${at(timedEnd)}`;
    out.push(`purge: under way by ${at(startedAt)} after the service first answered, ${end}; ${timed}`);
    const notYet = expired - erasedAt('after');
    out.push(`purged ${count(erasedAt('before'))} before the timed phase, ${count(erasedAt('after') - erasedAt('before'))} during it, ` +
      `${count(notYet)} not by its end` +
      (notYet > 0 ? ': the timed phase ended before the purge did' : erasedAt('before') === 0 ? ': no chunk committed outside the timed phase' : ''));
  }
  const base = baseline.measured.load;
  if (span !== null) {
    out.push(`ingest while purging vs no purge: ${percent(span.rate, rate(base))} of the rate (target >= 80%), p99 ${times(span.p99, base.p99)} (target <= 2x)`);
  } else if (startedAt !== null && load.timeline !== null) {
    out.push(`the purge overlapped the timed phase too little (under ${MIN_OVERLAP_MS / 1000} s) for figures while purging`);
  }
  out.push(`timed phase vs no purge: ${percent(rate(load), rate(base))} of the rate, p99 ${times(load.p99, base.p99)}`);
  const stored = storedCell(scrapes[0]?.after.get('messages_stored'), total - erasedAt('after') + load.answered200, load.unsettled);
  out.push(`messages_stored at the end: ${stored}, from ${count(total)} seeded - ${count(erasedAt('after'))} purged + ${count(load.answered200)} answered 200` +
    (load.unsettled > 0 ? ` (+ up to ${load.unsettled} in flight as wrk stopped)` : ''));
  return out.join('\n');
}
