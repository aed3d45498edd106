// Read latency at two table sizes in one run: seeds (or reuses) a small and a large database,
// starts the real server on each (127.0.0.1, port 0), asks every query in turn from one client,
// and prints median and p99 per query and size, the growth factor from small to large, and each
// median as a multiple of GET /health/live measured in the same run (the HTTP floor).
//   node scripts/bench-read.ts [--rows 1000000] [--small 10000] [--requests 200] [--dir bench-data]
// Figures are noisy on a shared machine: read the ratios, not the milliseconds.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { countMessages, RARE_WORD, seedDatabase, senderNumber, type SeedPlan } from './synthetic-messages.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
    dir: { type: 'string', default: 'bench-data' },
  },
});
const REQUESTS = Number(values.requests);
const MESSAGES_PER_SENDER = 10; // 1,000,000 messages from 100,000 senders
const TIME_BUDGET_MS = 5_000; // per query and size; a slow query stops early, after at least 20
const WARM_UP_REQUESTS = 30; // or 1 s, whichever ends first (at least 3)
const ENTRY = new URL('../src/server.ts', import.meta.url).pathname;

type Query = { name: string; path: string; fast: boolean };
type Figures = { median: number; p99: number; samples: number };

const sizes = [Number(values.small), Number(values.rows)];
const results = new Map<string, Figures[]>();
const expectedFlat = new Map<string, boolean>();
for (const rows of sizes) {
  const plan: SeedPlan = { rows, senders: Math.max(1, Math.floor(rows / MESSAGES_PER_SENDER)) };
  const path = resolve(values.dir, `read-${rows}.db`);
  ensureSeeded(path, plan);
  const server = await startServer(path);
  try {
    for (const query of await queriesFor(server.url, plan)) {
      const figures = await measure(server.url, query.path);
      results.set(query.name, [...(results.get(query.name) ?? []), figures]);
      expectedFlat.set(query.name, query.fast);
      process.stderr.write(`  ${rows} rows  ${query.name}: median ${figures.median.toFixed(2)} ms\n`);
    }
  } finally {
    await server.stop();
  }
}
printTable();

function ensureSeeded(path: string, plan: SeedPlan): void {
  if (countMessages(path) === plan.rows) {
    process.stdout.write(`reusing ${path} (${plan.rows} messages)\n`);
    return;
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const result = seedDatabase(path, plan);
  process.stdout.write(
    `seeded ${path}: ${plan.rows} messages from ${plan.senders} senders in ${result.seconds.toFixed(1)} s ` +
      `(${Math.round(plan.rows / result.seconds)} messages/s)\n`,
  );
}

/** The queries of the issue, each aimed at the same share of the table whatever its size. */
async function queriesFor(url: string, plan: SeedPlan): Promise<Query[]> {
  const total = (await getJson(url, '/messages?limit=1')).total as number;
  const tsAt = async (offset: number) => ((await getJson(url, `/messages?limit=1&offset=${offset}`)).data[0].ts as string);
  const deep = Math.floor(total * 0.9);
  const link = (await fetch(`${url}/messages?limit=1&offset=${deep}`)).headers.get('link') ?? '';
  const cursor = new URL(/<([^>]+)>/.exec(link)?.[1] ?? '/', url).searchParams.get('cursor');
  if (cursor === null) throw new Error('no Link header on a deep page');
  const params = (entries: Record<string, string>) => new URLSearchParams(entries).toString();
  return [
    { name: 'GET /health/live (baseline)', path: '/health/live', fast: true },
    { name: 'GET /stats', path: '/stats', fast: true },
    { name: 'first page', path: '/messages', fast: true },
    { name: 'from (a typical sender)', path: `/messages?${params({ from: senderNumber(Math.floor(plan.senders / 2)) })}`, fast: true },
    { name: 'since (last 500 messages)', path: `/messages?${params({ since: await tsAt(total - 500) })}`, fast: true },
    { name: 'cursor page at 90%', path: `/messages?${params({ cursor })}`, fast: true },
    { name: `q rare word (${RARE_WORD.toLowerCase()}, 10 hits)`, path: `/messages?${params({ q: RARE_WORD.toLowerCase() })}`, fast: true },
    { name: 'from (a typical sender) + q', path: `/messages?${params({ from: senderNumber(Math.floor(plan.senders / 2)), q: 'thank' })}`, fast: true },
    { name: 'from busiest sender + q rare word', path: `/messages?${params({ from: senderNumber(0), q: RARE_WORD })}`, fast: true },
    // Documented to cost more: they grow with the rows they must count, skip or check.
    { name: 'offset page at 90%', path: `/messages?${params({ offset: String(deep) })}`, fast: false },
    { name: 'since (last 90%)', path: `/messages?${params({ since: await tsAt(Math.floor(total * 0.1)) })}`, fast: false },
    { name: 'q common phrase (thank you)', path: `/messages?${params({ q: 'thank you' })}`, fast: false },
    { name: 'q of 2 characters (ok)', path: `/messages?${params({ q: 'ok' })}`, fast: false },
  ];
}

async function measure(url: string, path: string): Promise<Figures> {
  // Warm up the server, the client and the page cache alike for every size and query.
  const warming = performance.now();
  for (let i = 0; i < WARM_UP_REQUESTS && (i < 3 || performance.now() - warming < 1_000); i++) await getJson(url, path);
  const latencies: number[] = [];
  const started = performance.now();
  while (latencies.length < REQUESTS && (latencies.length < 20 || performance.now() - started < TIME_BUDGET_MS)) {
    const begin = performance.now();
    await getJson(url, path);
    latencies.push(performance.now() - begin);
  }
  latencies.sort((a, b) => a - b);
  const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.ceil(share * latencies.length) - 1)] as number;
  return { median: at(0.5), p99: at(0.99), samples: latencies.length };
}

async function getJson(url: string, path: string): Promise<any> {
  const response = await fetch(`${url}${path}`);
  const body = await response.json();
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function startServer(path: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, WEBHOOK_SECRET: 'bench-read', DATABASE_URL: `sqlite:///${path}`, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  // Every request writes a log line, as in production; keep reading them so the pipe never fills.
  const port = await new Promise<number>((found, fail) => {
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"listening"')) found(JSON.parse(line).port as number);
    });
    void exited.then(() => fail(new Error('server exited before listening')));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function printTable(): void {
  const [small, large] = sizes.map((n) => n.toLocaleString('en-US'));
  const baseline = results.get('GET /health/live (baseline)') as Figures[];
  const ms = (n: number) => n.toFixed(2);
  const lines = [
    `| query | ${small}: median / p99 ms | ${large}: median / p99 ms | growth (median) | ${large}: x baseline | meant to |`,
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, [a, b]] of results) {
    if (a === undefined || b === undefined) continue;
    lines.push(
      `| ${name} | ${ms(a.median)} / ${ms(a.p99)} | ${ms(b.median)} / ${ms(b.p99)} | ` +
        `${(b.median / a.median).toFixed(1)}x | ${(b.median / (baseline[1] as Figures).median).toFixed(1)} | ` +
        `${expectedFlat.get(name) ? 'stay flat' : 'grow'} |`,
    );
  }
  const samples = [...results.values()].flat().map((f) => f.samples);
  lines.push('', `${Math.min(...samples)} to ${Math.max(...samples)} sequential requests per cell, each after up to ${WARM_UP_REQUESTS} warm-up requests; node ${process.version}.`);
  process.stdout.write(lines.join('\n') + '\n');
}
