// The load generator: posts pre-signed bodies as fast as the servers answer, over a fixed number of
// keep-alive connections, split evenly between the servers given. Only requests started after the
// warm-up count. With `wrk`, each server gets its own wrk process (wrk cannot sign, so it replays
// the bodies from a file: scripts/bench-wrk.lua) and its own share of the bodies, so two servers
// never receive the same message.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { DATA, ROOT } from './servers.ts';

export type Signed = { body: Buffer; signature: string };
/** Where the bodies go and which header carries their signature. */
export type Route = { path: string; signatureHeader: string };
export const WEBHOOK_ROUTE: Route = { path: '/webhook', signatureHeader: 'X-Signature' };
export type LoadOptions = { generator: 'node' | 'wrk'; connections: number; warmupMs: number; durationMs: number };

/**
 * When each timed request finished and how long it took, on this process's performance.now()
 * clock, for figures over part of the timed phase; only the node generator keeps them.
 */
export type Timeline = { timedStart: number; finished: Float64Array; latencies: Float64Array };
export type Load = {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  non200: number;
  /** 200 answers over the whole run, warm-up included: what the servers must have stored. */
  answered200: number;
  /** Requests still in flight when the load stopped, whose answer nobody counted (wrk's, at its end). */
  unsettled: number;
  exhausted: boolean;
  timeline: Timeline | null;
};

/**
 * `holdOpen`: asked once the timed phase is over, keeps it going while it answers true, so that it
 * covers something of unknown length (the node generator only; wrk stops on time).
 */
export function runLoad(
  ports: readonly number[], route: Route, requests: readonly Signed[], options: LoadOptions, startTimed: () => void, holdOpen?: () => boolean,
): Promise<Load> {
  return options.generator === 'wrk'
    ? loadWithWrk(ports, route, requests, options, startTimed)
    : loadWithNode(ports, route, requests, options, startTimed, holdOpen ?? (() => false));
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function post(agent: Agent, port: number, route: Route, signed: Signed): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent, host: '127.0.0.1', port, path: route.path, method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': signed.body.length, [route.signatureHeader]: signed.signature },
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

async function loadWithNode(
  ports: readonly number[], route: Route, requests: readonly Signed[], options: LoadOptions, startTimed: () => void, holdOpen: () => boolean,
): Promise<Load> {
  // maxSockets is per origin: each server gets its share of the connections.
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const finishes: number[] = [];
  let next = 0;
  let non200 = 0;
  let answered200 = 0;
  let lastEnd = 0;
  const timedStart = performance.now() + options.warmupMs;
  const end = timedStart + options.durationMs;
  const reset = setTimeout(startTimed, options.warmupMs);

  async function lane(port: number): Promise<void> {
    while (next < requests.length && (performance.now() < end || holdOpen())) {
      const signed = requests[next++] as Signed;
      const started = performance.now();
      const status = await post(agent, port, route, signed);
      const finished = performance.now();
      if (status === 200) answered200++;
      if (started < timedStart) continue;
      latencies.push(finished - started);
      finishes.push(finished);
      if (status !== 200) non200++;
      lastEnd = finished;
    }
  }
  await Promise.all(Array.from({ length: options.connections }, (_, index) => lane(ports[index % ports.length] as number)));
  clearTimeout(reset);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    seconds: (lastEnd - timedStart) / 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    non200,
    answered200,
    unsettled: 0,
    exhausted: next >= requests.length,
    timeline: { timedStart, finished: Float64Array.from(finishes), latencies: Float64Array.from(latencies) },
  };
}

/** wrk has no warm-up: the whole run is timed. With several servers, p50 and p99 are the worst of theirs. */
async function loadWithWrk(ports: readonly number[], route: Route, requests: readonly Signed[], options: LoadOptions, startTimed: () => void): Promise<Load> {
  startTimed();
  const connections = Math.max(1, Math.round(options.connections / ports.length));
  const shares = await Promise.all(
    ports.map((port, index) => {
      const share = requests.filter((_, n) => n % ports.length === index);
      return runWrk(port, route, share, connections, options.durationMs, join(DATA, `wrk-requests-${index}.txt`));
    }),
  );
  const requestsDone = shares.reduce((sum, share) => sum + share.requests, 0);
  const non200 = shares.reduce((sum, share) => sum + share.non200, 0);
  return {
    requests: requestsDone,
    seconds: options.durationMs / 1000,
    p50: Math.max(...shares.map((share) => share.p50)),
    p99: Math.max(...shares.map((share) => share.p99)),
    non200,
    answered200: requestsDone - non200,
    unsettled: connections * ports.length,
    exhausted: shares.some((share) => share.exhausted),
    timeline: null,
  };
}

type WrkShare = { requests: number; p50: number; p99: number; non200: number; exhausted: boolean };

function runWrk(port: number, route: Route, requests: readonly Signed[], connections: number, durationMs: number, file: string): Promise<WrkShare> {
  writeFileSync(file, requests.map((r) => `${r.signature} ${r.body.toString()}`).join('\n') + '\n');
  const child = spawn(
    'wrk',
    ['-t1', `-c${connections}`, `-d${durationMs / 1000}s`, '--latency', '-s', join(ROOT, 'scripts/bench-wrk.lua'), `http://127.0.0.1:${port}`],
    { env: { ...process.env, BENCH_REQUESTS: file, BENCH_PATH: route.path, BENCH_SIGNATURE_HEADER: route.signatureHeader } },
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
        p50: toMs(/50%\s+([\d.]+)(us|ms|s)/.exec(out)),
        p99: toMs(/99%\s+([\d.]+)(us|ms|s)/.exec(out)),
        // A request that failed on the socket got no 200 either.
        non200: count(/Non-2xx or 3xx responses: (\d+)/) + (socketErrors ?? []).slice(1).reduce((sum, n) => sum + Number(n), 0),
        exhausted: total > requests.length,
      });
    });
  });
}
