// The ingest scenarios on /webhook, reported in one table as ratios to the floor of the same run:
//   floor    a bare node:http server that reads the body and answers 200 (scripts/bench-floor.ts)
//   durable  the same server answering only once the body is on disk: batches appended to a file
//            and fdatasynced by a worker thread (scripts/bench-durable-floor.ts), the price of
//            durability in the service's own shape, without signature, validation or SQLite
//   unique   the service (src/server.ts) on a fresh database, every message new
//   dup50    the service on a fresh database, every other message a duplicate of an earlier one
//   million  the service on a database already holding --rows messages (seeded once, then cached)
//   storm    as million, while two clients loop over the most expensive reads (scripts/bench-storm.ts)
//   memory   the service on `:memory:`: no fsync and no writer thread, so the gap to `unique` is
//            what durability costs
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStorm, type StormResult } from '../bench-storm.ts';
import { measure, rate, type BenchOptions, type Measurement } from './measure.ts';
import { POOL_SIZE, removeDatabase, seededDatabase, signedRequests, WEBHOOK_SECRET } from './requests.ts';
import { DATA, type ServerSpec } from './servers.ts';
import { growth, readsCell } from './service-metrics.ts';
import { cpuPerCell, formatTable, latencyCells, percent, rssCell, times } from './table.ts';

export const INGEST_SCENARIOS = ['floor', 'durable', 'unique', 'dup50', 'million', 'storm', 'memory'] as const;
export type IngestScenario = (typeof INGEST_SCENARIOS)[number];
/** The scenarios that run a baseline server, not the service. */
const BASELINES: Partial<Record<IngestScenario, string>> = { floor: 'scripts/bench-floor.ts', durable: 'scripts/bench-durable-floor.ts' };
/** The scenarios that start from the seeded database of --rows messages. */
export const SEEDED: readonly IngestScenario[] = ['million', 'storm'];

export type IngestRow = { scenario: IngestScenario; measured: Measurement; storm: StormResult | null };

export async function runIngest(scenario: IngestScenario, options: BenchOptions, seededRows: number): Promise<IngestRow> {
  const baseline = BASELINES[scenario];
  let dbPath: string | null = null;
  if (scenario === 'memory') {
    dbPath = ':memory:';
  } else if (baseline === undefined) {
    dbPath = join(DATA, `run-${scenario}.db`);
    removeDatabase(dbPath);
    if (SEEDED.includes(scenario)) copyFileSync(seededDatabase(seededRows), dbPath);
  }
  const requests = signedRequests(`${scenario}-${Date.now()}`, POOL_SIZE, scenario === 'dup50');
  const server: ServerSpec = {
    name: scenario,
    env: { WEBHOOK_SECRET, DATABASE_URL: `sqlite:///${dbPath}`, DURABLE_FLOOR_FILE: join(DATA, 'durable-floor.log') },
  };
  if (baseline !== undefined) server.entry = baseline;
  let stormResult: StormResult | null = null;
  const measured = await measure(options, {
    servers: [server],
    requests,
    service: baseline === undefined,
    whileTimed: ([first]) => {
      if (scenario !== 'storm' || first === undefined) return { stop: async () => {} };
      const storm = startStorm(first.port);
      return {
        async stop() {
          stormResult = await storm.stop();
        },
      };
    },
  });
  if (dbPath !== null && dbPath !== ':memory:') removeDatabase(dbPath);
  return { scenario, measured, storm: stormResult };
}

export function ingestReport(rows: readonly IngestRow[]): string {
  const find = (scenario: IngestScenario) => rows.find((row) => row.scenario === scenario);
  const floor = find('floor');
  const durable = find('durable');
  const ratio = (row: IngestRow, base: IngestRow | undefined) => (base === undefined ? '-' : percent(rate(row.measured.load), rate(base.measured.load)));
  const header = ['scenario', 'req/s', 'vs floor', 'vs durable', 'p50 ms', 'p99 ms', 'non-200', 'peak RSS MB', 'loop p99 ms', 'CPU µs/req', 'avg batch', 'reads p50/max ms'];
  const lines = rows.map((row) => {
    const { scenario, measured: { load, probes, scrapes, reads } } = row;
    const probe = probes[0] ?? null;
    const scrape = scrapes[0];
    return [
      scenario + (load.exhausted ? ' (pool used up)' : ''),
      rate(load).toFixed(0),
      ratio(row, floor),
      scenario === 'floor' ? '-' : ratio(row, durable),
      ...latencyCells(load),
      String(load.non200),
      rssCell(probe),
      probe?.eventLoopDelayP99Ms.toFixed(2) ?? '?',
      cpuPerCell(probe, load.requests),
      scrape === undefined ? '-' : (growth(scrape.before, scrape.after, 'write_batch_size_sum') / growth(scrape.before, scrape.after, 'write_batch_size_count')).toFixed(1),
      readsCell(reads),
    ];
  });
  const out = [formatTable(header, lines)];
  const unique = find('unique');
  const million = find('million');
  if (unique !== undefined && million !== undefined) out.push(`million vs unique (empty database): ${percent(rate(million.measured.load), rate(unique.measured.load))}`);
  const storm = find('storm');
  if (storm?.storm != null) {
    const statuses = Object.entries(storm.storm.byStatus).map(([status, n]) => `${n}x ${status}`).join(', ');
    const scrape = storm.measured.scrapes[0];
    const cpu = scrape === undefined
      ? ''
      : `, reader threads used ${growth(scrape.before, scrape.after, 'read_cpu_seconds_total').toFixed(1)} s of CPU, ` +
        `${growth(scrape.before, scrape.after, 'reader_threads_replaced_total{reason="deadline"}') + growth(scrape.before, scrape.after, 'reader_threads_replaced_total{reason="died"}')} replaced`;
    out.push(`storm: ${storm.storm.reads} expensive reads (${statuses})${cpu}`);
    if (million !== undefined) {
      out.push(`storm vs million (ingest alone): ${percent(rate(storm.measured.load), rate(million.measured.load))} of the rate, p99 ${times(storm.measured.load.p99, million.measured.load.p99)}`);
    }
  }
  return out.join('\n');
}
