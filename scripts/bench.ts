// Ingest throughput, measured against the floor of this machine in the same run:
//   floor    a bare node:http server that reads the body and answers 200 (scripts/bench-floor.ts)
//   durable  the same server answering only once the body is on disk: batches appended to a file
//            and fdatasynced by a worker thread (scripts/bench-durable-floor.ts), the price of
//            durability in the service's own shape, without signature, validation or SQLite
//   unique   the service (src/server.ts) on a fresh database, every message new
//   dup50    the service on a fresh database, every other message a duplicate of an earlier one
//   million  the service on a database already holding --rows messages (seeded once, then cached
//            in bench-data/, which git ignores)
//   storm    as million, while two clients loop over the most expensive reads (scripts/bench-storm.ts):
//            compared with million, what readers cost ingest
//   memory   (only when asked for) the service on `:memory:`: no fsync and no writer thread, so
//            the gap to `unique` is what durability costs
// For each: requests/s and its ratio to the floor, p50/p99 latency, non-200 responses; from
// scripts/bench-probe.ts (loaded into every server) the server's peak RSS and CPU time per request
// over all its threads, a figure that other load on the machine sways less than requests/s; and
// the event-loop delay p99 over the timed phase, from the service's own /metrics (the probe's, for
// the floor), plus the average write batch from /metrics; and, for the service, how fast reads
// (/stats, /messages) answer meanwhile.
// Servers run as their own processes; this process is the load generator, with every body signed
// before the timed phase. Only 127.0.0.1 is contacted, and every run stops by itself.
//
//   node scripts/bench.ts [--duration 10] [--warmup 2] [--connections 64] [--rows 1000000]
//                         [--scenarios floor,durable,unique,dup50,million] [--generator node|wrk]
//                         [--log-level INFO]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer as createNetServer, connect } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS } from '../src/store/sqlite/migrations.ts';
import { signBody } from '../src/ingest/schemes/x-signature.ts';
import { startStorm, type StormResult } from './bench-storm.ts';
import { seedDatabase, syntheticMessage, type SeedPlan } from './synthetic-messages.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATA = join(ROOT, 'bench-data');
const SECRET = 'bench-secret-0123456789abcdef0123456789';
/** Bodies signed per scenario; a run that sends them all stops early (and says so). */
const POOL_SIZE = 400_000;
/** The environment and node flags `npm start` sets (package.json): both servers run under them, as deployed. */
const START_WORDS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string).split(/\s+/);
const START_ENV = Object.fromEntries(START_WORDS.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=', 2)));
const START_FLAGS = START_WORDS.filter((word) => word.startsWith('--'));
const SCENARIOS = ['floor', 'durable', 'unique', 'dup50', 'million', 'storm', 'memory'] as const;
const DEFAULT_SCENARIOS = 'floor,durable,unique,dup50,million,storm';
/** The scenarios that run a baseline server, not the service. */
const BASELINES: Record<string, string> = { floor: 'scripts/bench-floor.ts', durable: 'scripts/bench-durable-floor.ts' };
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    rows: { type: 'string', default: '1000000' },
    scenarios: { type: 'string', default: DEFAULT_SCENARIOS },
    generator: { type: 'string', default: 'node' },
    'log-level': { type: 'string', default: 'INFO' },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const connections = Number(args.connections);
const seededRows = Number(args.rows);
const generator = args.generator === 'wrk' ? 'wrk' : 'node';
const chosen = args.scenarios.split(',').filter((name): name is Scenario => (SCENARIOS as readonly string[]).includes(name));
if (generator === 'wrk' && spawnSync('wrk', ['--version']).error !== undefined) {
  process.stderr.write('--generator wrk needs wrk on the PATH\n');
  process.exit(2);
}

type Signed = { body: Buffer; signature: string };
type Load = { requests: number; seconds: number; p50: number; p99: number; non200: number; exhausted: boolean };
type Probe = { cpuMs: number; eventLoopDelayP99Ms: number; peakRssBytes: number | null };
/** From the service's /metrics over the timed phase; null for the floor, which has none. */
type Scraped = { averageBatch: number; readCpuSeconds: number; readersReplaced: number } | null;
/** Latencies of the reads asked while ingest ran, and how many did not answer 200. */
type Reads = { latencies: Float64Array; failed: number } | null;
type Row = { scenario: Scenario; load: Load; probe: Probe | null; scraped: Scraped; reads: Reads; storm: StormResult | null };

// ---- messages ---------------------------------------------------------------------------------

/** The read benchmark's synthetic traffic (scripts/synthetic-messages.ts): 10 messages a sender. */
const planFor = (rows: number): SeedPlan => ({ rows, senders: Math.max(1, Math.floor(rows / 10)) });
/** Live traffic is stamped now: after everything seeded, a few milliseconds apart. */
const LIVE_START = Date.UTC(2025, 6, 1);

/** Signed requests; with `halfDuplicates` every other one repeats an earlier message exactly. */
function signedRequests(prefix: string, count: number, halfDuplicates: boolean): Signed[] {
  const requests: Signed[] = [];
  const unique: Signed[] = [];
  const plan = planFor(count);
  for (let i = 0; i < count; i++) {
    if (halfDuplicates && i % 2 === 1) {
      requests.push(unique[Math.floor(Math.random() * unique.length)] as Signed);
      continue;
    }
    const ts = new Date(LIVE_START + i * 7).toISOString();
    const body = Buffer.from(JSON.stringify({ ...syntheticMessage(i, plan), message_id: `${prefix}-${i}`, ts }));
    const signed = { body, signature: signBody(SECRET, body) };
    unique.push(signed);
    requests.push(signed);
  }
  return requests;
}

/** A database holding `rows` messages, written through the service's own message writer. */
function seededDatabase(rows: number): string {
  // The cache key covers the schema and the writers, so a change to any of them seeds afresh.
  const key = createHash('sha256')
    .update(MIGRATIONS.join('\n'))
    .update(readFileSync(join(ROOT, 'src/store/sqlite/message-writer.ts')))
    .update(readFileSync(join(ROOT, 'src/store/sqlite/search-index.ts')))
    .digest('hex')
    .slice(0, 12);
  const path = join(DATA, `ingest-seed-${rows}-${key}.db`);
  if (existsSync(path)) return path;
  const partial = `${path}.partial`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(partial + suffix, { force: true });
  process.stderr.write(`seeding ${rows} messages into ${path} (once; later runs reuse it)\n`);
  seedDatabase(partial, planFor(rows));
  renameSync(partial, path);
  return path;
}

// ---- servers ----------------------------------------------------------------------------------

type Server = { pid: number; port: number; stop(): Promise<Probe | null> };

async function startServer(scenario: Scenario, dbPath: string | null): Promise<Server> {
  const logPath = join(DATA, `${scenario}.log`);
  const logFd = openSync(logPath, 'w');
  const port = await freePort();
  const entry = BASELINES[scenario] ?? 'src/server.ts';
  const child = spawn(process.execPath, [...START_FLAGS, '--import', './scripts/bench-probe.ts', entry], {
    cwd: ROOT,
    // By default the service logs every request (INFO), as deployed; the lines go to a file.
    env: {
      PATH: process.env.PATH,
      ...START_ENV,
      WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${dbPath}`, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: args['log-level'],
      DURABLE_FLOOR_FILE: join(DATA, 'durable-floor.log'),
    },
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let attempt = 0; !(await answers(port)); attempt++) {
    if (child.exitCode !== null || attempt > 600) throw new Error(`${entry} did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: child.pid as number,
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(logPath, { force: true });
      const line = stderr.split('\n').find((l) => l.startsWith('BENCH_PROBE '));
      return line === undefined ? null : (JSON.parse(line.slice('BENCH_PROBE '.length)) as Probe);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

// ---- load -------------------------------------------------------------------------------------

function post(agent: Agent, port: number, signed: Signed): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent, host: '127.0.0.1', port, path: '/webhook', method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': signed.body.length, 'X-Signature': signed.signature },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(signed.body);
  });
}

async function loadWithNode(server: Server, requests: Signed[], startTimed: () => void): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let next = 0;
  let non200 = 0;
  let lastEnd = 0;
  const timedStart = performance.now() + warmupMs;
  const end = timedStart + durationMs;
  const reset = setTimeout(startTimed, warmupMs);

  async function lane(): Promise<void> {
    while (next < requests.length && performance.now() < end) {
      const signed = requests[next++] as Signed;
      const started = performance.now();
      const status = await post(agent, server.port, signed);
      const finished = performance.now();
      if (started < timedStart) continue;
      latencies.push(finished - started);
      if (status !== 200) non200++;
      lastEnd = finished;
    }
  }
  await Promise.all(Array.from({ length: connections }, lane));
  clearTimeout(reset);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const seconds = (lastEnd - timedStart) / 1000;
  return {
    requests: sorted.length,
    seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    non200,
    exhausted: next >= requests.length,
  };
}

/** wrk cannot sign, so it replays the pre-signed requests from a file (scripts/bench-wrk.lua). */
function loadWithWrk(server: Server, requests: Signed[], startTimed: () => void): Promise<Load> {
  const file = join(DATA, 'wrk-requests.txt');
  writeFileSync(file, requests.map((r) => `${r.signature} ${r.body.toString()}`).join('\n') + '\n');
  startTimed();
  const seconds = durationMs / 1000;
  const child = spawn(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', join(ROOT, 'scripts/bench-wrk.lua'), `http://127.0.0.1:${server.port}`],
    { env: { ...process.env, BENCH_REQUESTS: file } },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => {
    child.on('exit', () => {
      rmSync(file, { force: true });
      const count = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? 0);
      const toMs = (match: RegExpExecArray | null) =>
        Number(match?.[1] ?? NaN) * (match?.[2] === 'us' ? 0.001 : match?.[2] === 's' ? 1000 : 1);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const total = count(/(\d+) requests in/);
      resolve({
        requests: total,
        seconds,
        p50: toMs(/50%\s+([\d.]+)(us|ms|s)/.exec(out)),
        p99: toMs(/99%\s+([\d.]+)(us|ms|s)/.exec(out)),
        // A request that failed on the socket got no 200 either.
        non200: count(/Non-2xx or 3xx responses: (\d+)/) + (socketErrors ?? []).slice(1).reduce((sum, n) => sum + Number(n), 0),
        exhausted: total > requests.length,
      });
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

// ---- run --------------------------------------------------------------------------------------

async function run(scenario: Scenario): Promise<Row> {
  let dbPath: string | null = null;
  if (scenario === 'memory') {
    dbPath = ':memory:';
  } else if (!(scenario in BASELINES)) {
    dbPath = join(DATA, `run-${scenario}.db`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    if (scenario === 'million' || scenario === 'storm') copyFileSync(seededDatabase(seededRows), dbPath);
  }
  const requests = signedRequests(`${scenario}-${Date.now()}`, POOL_SIZE, scenario === 'dup50');
  const server = await startServer(scenario, dbPath);
  const service = dbPath !== null;
  const timed: { atStart?: Promise<Map<string, number>>; reader?: ReturnType<typeof readWhileIngesting>; storm?: ReturnType<typeof startStorm> } = {};
  const startTimed = () => {
    process.kill(server.pid, 'SIGUSR2');
    if (!service) return;
    timed.atStart = scrapeMetrics(server.port);
    timed.reader = readWhileIngesting(server.port);
    if (scenario === 'storm') timed.storm = startStorm(server.port);
  };
  const load = generator === 'wrk' ? await loadWithWrk(server, requests, startTimed) : await loadWithNode(server, requests, startTimed);
  const reads = (await timed.reader?.stop()) ?? null;
  const storm = (await timed.storm?.stop()) ?? null;
  const scraped = timed.atStart === undefined ? null : scrapedFigures(await timed.atStart, await scrapeMetrics(server.port));
  const probe = await server.stop();
  if (dbPath !== null && dbPath !== ':memory:') for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  return { scenario, load, probe, scraped, reads, storm };
}

/** While ingest runs flat out, a reader asks for /stats and the first page of /messages, in turn, ten times a second. */
function readWhileIngesting(port: number): { stop(): Promise<Reads> } {
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}${n % 2 === 0 ? '/stats' : '/messages?limit=50'}`).catch(() => null);
      await response?.arrayBuffer();
      if (response?.status === 200) latencies.push(performance.now() - started);
      else failed++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { latencies: Float64Array.from(latencies).sort(), failed };
    },
  };
}

/** The samples of the service's /metrics, by name with its labels as written (`name{a="b"}`). */
async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const match of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/gm)) samples.set(match[1] as string, Number(match[2]));
  return samples;
}

function scrapedFigures(before: Map<string, number>, after: Map<string, number>): Scraped {
  const grew = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  return {
    averageBatch: grew('write_batch_size_sum') / grew('write_batch_size_count'),
    readCpuSeconds: grew('read_cpu_seconds_total'),
    readersReplaced: grew('reader_threads_replaced_total{reason="deadline"}') + grew('reader_threads_replaced_total{reason="died"}'),
  };
}

function table(rows: Row[]): string {
  const floor = rows.find((row) => row.scenario === 'floor');
  const durable = rows.find((row) => row.scenario === 'durable');
  const rate = (row: Row) => row.load.requests / row.load.seconds;
  const ratio = (row: Row, base: Row | undefined) => (base === undefined ? '-' : `${((100 * rate(row)) / rate(base)).toFixed(0)}%`);
  const header = ['scenario', 'req/s', 'vs floor', 'vs durable', 'p50 ms', 'p99 ms', 'non-200', 'peak RSS MB', 'loop p99 ms', 'CPU µs/req', 'avg batch', 'reads p50/max ms'];
  const lines = rows.map((row) => [
    row.scenario + (row.load.exhausted ? ' (pool used up)' : ''),
    rate(row).toFixed(0),
    ratio(row, floor),
    row.scenario === 'floor' ? '-' : ratio(row, durable),
    row.load.p50.toFixed(2),
    row.load.p99.toFixed(2),
    String(row.load.non200),
    row.probe?.peakRssBytes == null ? '?' : (row.probe.peakRssBytes / 2 ** 20).toFixed(0),
    row.probe?.eventLoopDelayP99Ms.toFixed(2) ?? '?',
    row.probe === null ? '?' : ((row.probe.cpuMs * 1000) / row.load.requests).toFixed(0),
    row.scraped === null ? '-' : row.scraped.averageBatch.toFixed(1),
    row.reads === null
      ? '-'
      : `${percentile(row.reads.latencies, 50).toFixed(1)}/${percentile(row.reads.latencies, 100).toFixed(1)}` +
        (row.reads.failed > 0 ? ` (${row.reads.failed} failed)` : ''),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] as string).length)));
  return [header, ...lines].map((line) => line.map((cell, column) => cell.padStart(widths[column] as number)).join('  ')).join('\n');
}

mkdirSync(DATA, { recursive: true });
if (chosen.includes('million') || chosen.includes('storm')) seededDatabase(seededRows);
process.stdout.write(
  `${Object.entries(START_ENV).map(([name, value]) => `${name}=${value} `).join('')}node ${process.version} ${START_FLAGS.join(' ')}, ${cpus().length} CPUs, generator ${generator}, ${connections} connections, ` +
    `${durationMs / 1000} s timed${generator === 'node' ? ` after ${warmupMs / 1000} s warm-up` : ''}, million = ${seededRows} rows\n`,
);
const rows: Row[] = [];
for (const scenario of chosen) {
  rows.push(await run(scenario));
  process.stderr.write(`${scenario} done\n`);
}
process.stdout.write(table(rows) + '\n');
const unique = rows.find((row) => row.scenario === 'unique');
const million = rows.find((row) => row.scenario === 'million');
if (unique !== undefined && million !== undefined) {
  const ratio = million.load.requests / million.load.seconds / (unique.load.requests / unique.load.seconds);
  process.stdout.write(`million vs unique (empty database): ${(100 * ratio).toFixed(0)}%\n`);
}
const storm = rows.find((row) => row.scenario === 'storm');
if (storm?.storm != null) {
  const statuses = Object.entries(storm.storm.byStatus).map(([status, n]) => `${n}x ${status}`).join(', ');
  const cpu = storm.scraped === null ? '' : `, reader threads used ${storm.scraped.readCpuSeconds.toFixed(1)} s of CPU, ${storm.scraped.readersReplaced} replaced`;
  process.stdout.write(`storm: ${storm.storm.reads} expensive reads (${statuses})${cpu}\n`);
  if (million !== undefined) {
    const ratio = storm.load.requests / storm.load.seconds / (million.load.requests / million.load.seconds);
    process.stdout.write(`storm vs million (ingest alone): ${(100 * ratio).toFixed(0)}% of the rate, p99 ${(storm.load.p99 / million.load.p99).toFixed(2)}x\n`);
  }
}
