// postgres: SQLite and PostgreSQL in one run, and one replica against two. Rows:
//   sqlite      the service on a fresh SQLite database (as `unique`)
//   1 replica   the service on a fresh PostgreSQL schema
//   2 replicas  two services on one fresh schema, each taking half the connections of the load
// Each with requests/s, p99, CPU per message of the service (every replica's threads added up) and
// of PostgreSQL (its processes' CPU time over the timed phase, see postgres-server.ts), the light
// reader's latencies (on the first replica) and peak RSS (per replica). Every message is new, and
// messages_stored after the load must equal the requests answered 200. Optional: it needs a
// PostgreSQL (BENCH_DATABASE_URL, or an install the cluster script can start).
import { join } from 'node:path';
import { measure, rate, type BenchOptions, type Measurement } from './measure.ts';
import { freshSchema, openBenchPostgres } from './postgres-server.ts';
import { POOL_SIZE, removeDatabase, signedRequests, WEBHOOK_SECRET } from './requests.ts';
import { combinedProbe, DATA } from './servers.ts';
import { readsCell } from './service-metrics.ts';
import { cpuPerCell, formatTable, latencyCells, percent, storedCell, times } from './table.ts';

type Row = { name: string; measured: Measurement; postgresCpuSeconds: number | null };

export async function runPostgres(options: BenchOptions): Promise<string> {
  const server = openBenchPostgres();
  // An interrupted run leaves no cluster behind (the services stop with this process's group).
  const interrupted = () => {
    server.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    const sqlitePath = join(DATA, 'run-postgres-sqlite.db');
    removeDatabase(sqlitePath);
    const sqlite = await measure(options, {
      servers: [{ name: 'postgres-sqlite', env: { WEBHOOK_SECRET, DATABASE_URL: `sqlite:///${sqlitePath}` } }],
      requests: signedRequests(`pg-sqlite-${Date.now()}`, POOL_SIZE, false),
      service: true,
    });
    removeDatabase(sqlitePath);
    const rows: Row[] = [{ name: 'sqlite', measured: sqlite, postgresCpuSeconds: null }];
    let facts = '';
    for (const replicas of [1, 2]) {
      const schema = await freshSchema(server.url);
      try {
        facts = await schema.facts();
        let cpuAtStart: number | null = null;
        let cpuSeconds: number | null = null;
        const measured = await measure(options, {
          servers: Array.from({ length: replicas }, (_, index) => ({ name: `postgres-${replicas}-${index}`, env: { WEBHOOK_SECRET, DATABASE_URL: schema.url } })),
          requests: signedRequests(`pg-${replicas}-${Date.now()}`, POOL_SIZE, false),
          service: true,
          whileTimed: () => {
            cpuAtStart = schema.cpuSeconds();
            return {
              async stop() {
                const atEnd = schema.cpuSeconds();
                cpuSeconds = cpuAtStart === null || atEnd === null ? null : atEnd - cpuAtStart;
              },
            };
          },
        });
        rows.push({ name: replicas === 1 ? 'postgres, 1 replica' : `postgres, ${replicas} replicas`, measured, postgresCpuSeconds: cpuSeconds });
      } finally {
        await schema.drop();
      }
    }
    return report(rows, `${facts}, ${server.origin}`);
  } finally {
    process.off('SIGINT', interrupted);
    server.stop();
  }
}

function report(rows: Row[], facts: string): string {
  const [sqlite, one, two] = rows as [Row, Row, Row];
  const header = ['', 'req/s', 'vs sqlite', 'p50 ms', 'p99 ms', 'non-200', 'service CPU µs/msg', 'postgres CPU µs/msg', 'reads p50/max ms', 'peak RSS MB', 'stored'];
  const lines = rows.map(({ name, measured: { load, probes, scrapes, reads }, postgresCpuSeconds }) => {
    // Every replica reads the same database: the last scrape of any of them is the total.
    const stored = scrapes.at(-1)?.after.get('messages_stored');
    return [
      name + (load.exhausted ? ' (pool used up)' : ''),
      rate(load).toFixed(0),
      percent(rate(load), rate(sqlite.measured.load)),
      ...latencyCells(load),
      String(load.non200),
      cpuPerCell(combinedProbe(probes), load.requests),
      name === 'sqlite' ? '-' : postgresCpuSeconds === null ? '?' : ((postgresCpuSeconds * 1e6) / load.requests).toFixed(0),
      readsCell(reads),
      probes.map((probe) => (probe?.peakRssBytes == null ? '?' : (probe.peakRssBytes / 2 ** 20).toFixed(0))).join('+'),
      storedCell(stored, load.answered200, load.unsettled),
    ];
  });
  return [
    `postgres: ${facts}; every run on a fresh schema, dropped afterwards`,
    formatTable(header, lines),
    `stored: messages_stored after the load: the requests answered 200, warm-up included (wrk: up to its connections more, in flight as it stopped)`,
    `1 replica vs sqlite: ${percent(rate(one.measured.load), rate(sqlite.measured.load))} of the rate, p99 ${times(one.measured.load.p99, sqlite.measured.load.p99)}`,
    `2 replicas vs 1: ${percent(rate(two.measured.load), rate(one.measured.load))} of the rate, p99 ${times(two.measured.load.p99, one.measured.load.p99)}`,
  ].join('\n');
}
