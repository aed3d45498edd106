// stream: /webhook ingest while 100 subscribers follow GET /messages/stream, against the same load
// with none, in PAIRS alternating runs of each (this machine's rate sways by 15% from one run to the
// next: one pair decides nothing); the verdict takes the median of the pairs' ratios, and the worst
// delivery p99. Every run starts on a fresh database and has the probe sender of
// scripts/bench-subscribers.ts posting a message every 50 ms, so the subscribers are the only
// difference. The subscribers run in a process of their own (forked); each counts the bytes it
// reads and times the probes' arrival, from the probe's POST and from its 200 answer. Targets
// (issue 19): ingest at least 90% of the rate without subscribers, delivery p99 under 100 ms.
// The service's stream_events_total over the timed phase, divided by what it stored meanwhile,
// should be the number of subscribers: every message went to every one of them.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SubscribersResult } from '../bench-subscribers.ts';
import { measure, rate, type BenchOptions, type Measurement } from './measure.ts';
import { POOL_SIZE, removeDatabase, signedRequests, WEBHOOK_SECRET } from './requests.ts';
import { DATA, ROOT } from './servers.ts';
import { growth, readsCell } from './service-metrics.ts';
import { cpuPerCell, formatTable, latencyCells, percent, rssCell } from './table.ts';

export const SUBSCRIBERS = 100;
const PROBE_MS = 50;
const DELIVERY_P99_TARGET_MS = 100;
const INGEST_TARGET = 0.9;
const PAIRS = 3;

type Row = { subscribers: number; measured: Measurement; result: SubscribersResult };

export async function runStream(options: BenchOptions): Promise<string> {
  const pairs: [Row, Row][] = [];
  for (let pair = 0; pair < PAIRS; pair++) pairs.push([await measureWith(options, 0), await measureWith(options, SUBSCRIBERS)]);
  return report(pairs);
}

async function measureWith(options: BenchOptions, subscribers: number): Promise<Row> {
  const name = `stream-${subscribers}`;
  const dbPath = join(DATA, `run-${name}.db`);
  removeDatabase(dbPath);
  let child: ChildProcess | null = null;
  let result: SubscribersResult | null = null;
  const measured = await measure(options, {
    servers: [{ name, env: { WEBHOOK_SECRET, DATABASE_URL: `sqlite:///${dbPath}`, MAX_STREAMS: String(Math.max(1, subscribers)) } }],
    requests: signedRequests(`${name}-${Date.now()}`, POOL_SIZE, false),
    service: true,
    whileRunning: ([server]) => {
      const forked = fork(join(ROOT, 'scripts/bench-subscribers.ts'), [], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, PORT: String(server?.port), SUBSCRIBERS: String(subscribers), WEBHOOK_SECRET, PROBE_MS: String(PROBE_MS) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child = forked;
      const answered = new Promise<SubscribersResult>((resolve, reject) => {
        forked.once('message', (message) => resolve(message as SubscribersResult));
        forked.once('exit', (code) => reject(new Error(`bench-subscribers exited (${code}) before it reported`)));
      });
      return {
        async stop() {
          forked.send('stop');
          result = await answered;
        },
      };
    },
    whileTimed: () => {
      (child as ChildProcess | null)?.send('start');
      return { stop: async () => {} };
    },
  });
  removeDatabase(dbPath);
  if (result === null) throw new Error('the subscribers did not report');
  return { subscribers, measured, result };
}

function report(pairs: [Row, Row][]): string {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  const header = [
    'subscribers', 'req/s', 'p50 ms', 'p99 ms', 'non-200', 'CPU µs/req', 'peak RSS MB', 'loop p99 ms', 'reads p50/max ms',
    'open start/end', 'delivery from POST p50/p99/max ms', 'from 200 p50/p99/max ms', 'probes missed', 'events/stored', 'subscribers CPU',
  ];
  const line = ({ subscribers, measured: { load, probes, scrapes, reads }, result }: Row) => {
    const scrape = scrapes[0];
    const stored = scrape === undefined ? 0 : growth(scrape.before, scrape.after, 'messages_stored');
    const events = scrape === undefined ? 0 : growth(scrape.before, scrape.after, 'stream_events_total');
    const none = subscribers === 0;
    return [
      String(subscribers),
      rate(load).toFixed(0),
      ...latencyCells(load),
      String(load.non200),
      cpuPerCell(probes[0] ?? null, load.requests),
      rssCell(probes[0] ?? null),
      probes[0]?.eventLoopDelayP99Ms.toFixed(2) ?? '?',
      readsCell(reads),
      `${result.openAtStart}/${result.openAtEnd}` + (result.ended > 0 ? ` (${result.ended} ended)` : ''),
      none ? '-' : `${ms(result.fromPost.p50)}/${ms(result.fromPost.p99)}/${ms(result.fromPost.max)}`,
      none ? '-' : `${ms(result.fromAnswer.p50)}/${ms(result.fromAnswer.p99)}/${ms(result.fromAnswer.max)}`,
      none ? '-' : `${result.missed} of ${result.probes}`,
      stored > 0 ? (events / stored).toFixed(1) : '-',
      `${((result.cpuMs / (load.seconds * 1000)) * 100).toFixed(0)}% of a core`,
    ];
  };
  const ratios = pairs.map(([without, withSubscribers]) => rate(withSubscribers.measured.load) / rate(without.measured.load));
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] as number;
  const p99 = Math.max(...pairs.map(([, withSubscribers]) => withSubscribers.result.fromPost.p99));
  const missed = pairs.reduce((sum, [, withSubscribers]) => sum + withSubscribers.result.missed, 0);
  return [
    `stream: /webhook ingest with ${SUBSCRIBERS} subscribers on GET /messages/stream against none, ${PAIRS} alternating pairs, a probe message every ${PROBE_MS} ms in every run, each on a fresh database`,
    formatTable(header, pairs.flat().map(line)),
    'delivery: when each subscriber read a probe, from its POST being sent (ingest included) and from its 200 answer (0 when the event came first)',
    'events/stored: stream_events_total over the timed phase per message stored meanwhile (every subscriber gets every message)',
    `with subscribers vs without, pair by pair: ${ratios.map((ratio) => percent(ratio, 1)).join(', ')} of the requests/s; ` +
      `median ${percent(median, 1)} (target >= ${percent(INGEST_TARGET, 1)}: ${median >= INGEST_TARGET ? 'met' : 'NOT met'})`,
    `delivery p99, the worst run's: ${ms(p99)} ms from the POST (target < ${DELIVERY_P99_TARGET_MS} ms: ${p99 < DELIVERY_P99_TARGET_MS ? 'met' : 'NOT met'}); ` +
      `probes some subscriber missed: ${missed}`,
  ].join('\n');
}
