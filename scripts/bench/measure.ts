// One measurement: start the servers, run the load against them, and gather what each scenario
// reports. When the timed phase starts, every server's probe is reset (SIGUSR2) and, for the
// service, its /metrics scraped and the light reader started (on the first server); the scenario
// may start watchers of its own then, or as soon as the servers answer. Everything stops, in the
// reverse order, once the load has ended; then the servers stop and report their probes.
import { runLoad, WEBHOOK_ROUTE, type Load, type LoadOptions, type Route, type Signed } from './load.ts';
import { startServer, type Probe, type Server, type ServerSpec } from './servers.ts';
import { readWhileIngesting, scrapeMetrics, type Reads, type Samples } from './service-metrics.ts';

export type BenchOptions = LoadOptions & { logLevel: string };
/** Something that runs beside the load until stopped. */
export type Watch = { stop(): Promise<void> };

export type MeasurePlan = {
  servers: ServerSpec[];
  requests: readonly Signed[];
  route?: Route;
  /** The service, not a floor: it has /metrics and answers reads. */
  service: boolean;
  /** Started once the servers answer, before the warm-up. */
  whileRunning?: (servers: readonly Server[]) => Watch;
  /** Started with the timed phase. */
  whileTimed?: (servers: readonly Server[]) => Watch;
  /** Keeps the timed phase going past --duration while it answers true (node generator only). */
  holdOpen?: () => boolean;
};

export type Measurement = {
  load: Load;
  /** In the order of the plan's servers. */
  probes: (Probe | null)[];
  /** Each server's /metrics at the start and the end of the timed phase; empty for a floor. */
  scrapes: { before: Samples; after: Samples }[];
  reads: Reads | null;
};

export async function measure(options: BenchOptions, plan: MeasurePlan): Promise<Measurement> {
  const servers: Server[] = [];
  let stopped = false;
  try {
    for (const spec of plan.servers) servers.push(await startServer(spec, options.logLevel));
    const running = plan.whileRunning?.(servers);
    const timed: { before?: Promise<Samples[]>; reader?: ReturnType<typeof readWhileIngesting>; watch?: Watch } = {};
    const startTimed = () => {
      for (const server of servers) process.kill(server.pid, 'SIGUSR2');
      if (!plan.service) return;
      timed.before = Promise.all(servers.map((server) => scrapeMetrics(server.port)));
      timed.reader = readWhileIngesting((servers[0] as Server).port);
      timed.watch = plan.whileTimed?.(servers);
    };
    const ports = servers.map((server) => server.port);
    const load = await runLoad(ports, plan.route ?? WEBHOOK_ROUTE, plan.requests, options, startTimed, plan.holdOpen);
    const reads = (await timed.reader?.stop()) ?? null;
    await timed.watch?.stop();
    await running?.stop();
    const before = timed.before === undefined ? [] : await timed.before;
    const after = plan.service ? await Promise.all(servers.map((server) => scrapeMetrics(server.port))) : [];
    const probes = await Promise.all(servers.map((server) => server.stop()));
    stopped = true;
    const scrapes = before.map((samples, index) => ({ before: samples, after: after[index] as Samples }));
    return { load, probes, scrapes, reads };
  } finally {
    // A failure half-way leaves no server behind.
    if (!stopped) await Promise.all(servers.map((server) => server.stop()));
  }
}

/** Requests a second over the timed phase. */
export const rate = (load: Load) => load.requests / load.seconds;
