// Ingest throughput of the service, each scenario against a baseline measured in the same run: the
// machine is shared and its figures sway, so only ratios carry from one run to the next.
//   floor     a bare node:http server that reads the body and answers 200: this machine's ceiling
//   durable   that server answering once the body is fdatasynced by a worker thread: durability's floor
//   unique    the service on a fresh SQLite database, every message new
//   dup50     the service on a fresh database, every other message a duplicate of an earlier one
//   million   the service on a database already holding --rows messages (seeded once, cached)
//   storm     as million, while two clients loop over the most expensive reads: what readers cost ingest
//   memory    (only when asked for) the service on `:memory:`: the gap to unique is what durability costs
//   purge     ingest while RETENTION_DAYS=1 purges --expired old messages, against the same database without it
//   meta      WhatsApp notifications of 10 messages on /webhooks/whatsapp against /webhook singles, messages/s
//   stream    ingest while 100 subscribers follow GET /messages/stream, against none: rate and delivery latency
//   postgres  (only when asked for) SQLite against PostgreSQL with one and two replicas, CPU per message of each
// The floors and the /webhook scenarios share one table (scripts/bench/ingest.ts); purge, meta,
// stream and postgres each print their own, with their baseline (scripts/bench/purge.ts, meta.ts,
// stream.ts, postgres.ts).
// For every measurement: requests/s, p50/p99 latency, non-200 answers; from scripts/bench-probe.ts,
// preloaded into every server, its peak RSS, event-loop delay and CPU time over all its threads (a
// figure that other load on the machine sways less than requests/s); from the service's own
// /metrics, scraped as the timed phase starts and ends, what it did meanwhile; and how fast a light
// reader's /stats and /messages answer while ingest runs.
// Servers run as their own processes; this process is the load generator, with every body signed
// before the timed phase. Only 127.0.0.1 is contacted (and the PostgreSQL named by
// BENCH_DATABASE_URL, if set), and every run stops by itself.
//
//   node scripts/bench.ts [--duration 10] [--warmup 2] [--connections 64] [--rows 1000000]
//                         [--expired 100000] [--scenarios floor,durable,unique,dup50,million,storm,purge,meta,stream]
//                         [--generator node|wrk] [--log-level INFO] [--help]
//
// postgres is not in the default list: `--scenarios postgres`, with BENCH_DATABASE_URL naming a
// PostgreSQL where the role may create schemas and pg_trgm is installed or creatable (each
// measurement gets a fresh schema, dropped afterwards; PostgreSQL's CPU is read only if its processes
// are on this machine). Unset, the bench starts a throwaway cluster with scripts/pg-test-cluster.sh
// (a PostgreSQL under /usr/lib/postgresql; run as root, or as a user who may run initdb) and removes
// it at the end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { INGEST_SCENARIOS, ingestReport, runIngest, SEEDED, type IngestRow, type IngestScenario } from './bench/ingest.ts';
import type { BenchOptions } from './bench/measure.ts';
import { runMeta } from './bench/meta.ts';
import { runPostgres } from './bench/postgres.ts';
import { runPurge } from './bench/purge.ts';
import { runStream } from './bench/stream.ts';
import { seededDatabase } from './bench/requests.ts';
import { DATA, startCommand } from './bench/servers.ts';

const SCENARIOS = [...INGEST_SCENARIOS, 'purge', 'meta', 'stream', 'postgres'] as const;
type Scenario = (typeof SCENARIOS)[number];
const DEFAULT_SCENARIOS = 'floor,durable,unique,dup50,million,storm,purge,meta,stream';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    rows: { type: 'string', default: '1000000' },
    expired: { type: 'string', default: '100000' },
    scenarios: { type: 'string', default: DEFAULT_SCENARIOS },
    generator: { type: 'string', default: 'node' },
    'log-level': { type: 'string', default: 'INFO' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  // The scenario lines of the header above, which is where they are kept.
  const header = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const lines = header.filter((line) => SCENARIOS.some((name) => line.startsWith(`//   ${name} `)));
  process.stdout.write(`node scripts/bench.ts [options]; --scenarios takes, comma-separated (default ${DEFAULT_SCENARIOS}):\n`);
  process.stdout.write(lines.map((line) => line.slice(2)).join('\n') + '\n');
  process.exit(0);
}

const options: BenchOptions = {
  generator: args.generator === 'wrk' ? 'wrk' : 'node',
  connections: wholeNumber('connections', args.connections),
  warmupMs: Number(args.warmup) * 1000,
  durationMs: Number(args.duration) * 1000,
  logLevel: args['log-level'],
};
const seededRows = wholeNumber('rows', args.rows);
const expired = wholeNumber('expired', args.expired);
const chosen = args.scenarios.split(',').map((name) => name.trim());
const unknown = chosen.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) fail(`--scenarios: unknown ${unknown.join(', ')}; accepted: ${SCENARIOS.join(', ')} (--help says what each measures)`);
if (!(options.durationMs > 0) || !(options.warmupMs >= 0)) fail('--duration must be above 0 and --warmup at least 0 (seconds)');
if (options.generator === 'wrk' && spawnSync('wrk', ['--version']).error !== undefined) fail('--generator wrk needs wrk on the PATH');

mkdirSync(DATA, { recursive: true });
if (chosen.some((name) => (SEEDED as readonly string[]).includes(name))) seededDatabase(seededRows);
const start = startCommand();
process.stdout.write(
  `${Object.entries(start.env).map(([name, value]) => `${name}=${value} `).join('')}node ${process.version} ${start.flags.join(' ')}, ` +
    `${cpus().length} CPUs, generator ${options.generator}, ${options.connections} connections, ` +
    `${options.durationMs / 1000} s timed${options.generator === 'node' ? ` after ${options.warmupMs / 1000} s warm-up` : ''}, million = ${seededRows} rows\n`,
);
const ingestRows: IngestRow[] = [];
const reports: string[] = [];
for (const scenario of chosen as Scenario[]) {
  if (scenario === 'purge') reports.push(await runPurge(options, expired));
  else if (scenario === 'meta') reports.push(await runMeta(options));
  else if (scenario === 'stream') reports.push(await runStream(options));
  else if (scenario === 'postgres') reports.push(await runPostgres(options));
  else ingestRows.push(await runIngest(scenario satisfies IngestScenario, options, seededRows));
  process.stderr.write(`${scenario} done\n`);
}
if (ingestRows.length > 0) process.stdout.write(ingestReport(ingestRows) + '\n');
for (const report of reports) process.stdout.write('\n' + report + '\n');

function wholeNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a whole number above 0`);
  return value;
}

function fail(message: string): never {
  process.stderr.write(message + '\n');
  process.exit(2);
}
