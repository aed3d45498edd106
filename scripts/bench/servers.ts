// The servers a bench measures, each its own process, started the way `npm start` starts the
// service (package.json's environment and node flags) with scripts/bench-probe.ts preloaded, on a
// free port of 127.0.0.1. A server's stdout (the service logs every request at INFO) goes to a file
// in bench-data/, removed when it stops; its stderr is kept for the probe's line and for errors.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, connect } from 'node:net';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
/** Seeds, databases and logs of a run: git ignores the folder. */
export const DATA = join(ROOT, 'bench-data');
const SERVICE_ENTRY = 'src/server.ts';
const START_ATTEMPTS = 600;
const START_POLL_MS = 50;

/** What scripts/bench-probe.ts reports as a server exits; CPU time is counted from the timed phase's start (SIGUSR2). */
export type Probe = { cpuMs: number; eventLoopDelayP99Ms: number; peakRssBytes: number | null };

/** `name` names the log file; `entry` defaults to the service; `env` comes on top of the start environment. */
export type ServerSpec = { name: string; entry?: string; env: Record<string, string> };
export type Server = { name: string; pid: number; port: number; stop(): Promise<Probe | null> };

/** The environment variables and node flags of package.json's start script, as deployed. */
export function startCommand(): { env: Record<string, string>; flags: string[] } {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split(/\s+/);
  const env = Object.fromEntries(words.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=', 2) as [string, string]));
  return { env, flags: words.filter((word) => word.startsWith('--')) };
}

export async function startServer(spec: ServerSpec, logLevel: string): Promise<Server> {
  const logPath = join(DATA, `${spec.name}.log`);
  const logFd = openSync(logPath, 'w');
  const port = await freePort();
  const entry = spec.entry ?? SERVICE_ENTRY;
  const start = startCommand();
  const child = spawn(process.execPath, [...start.flags, '--import', './scripts/bench-probe.ts', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...start.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: logLevel, ...spec.env },
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let attempt = 0; !(await answers(port)); attempt++) {
    if (child.exitCode !== null || attempt > START_ATTEMPTS) {
      child.kill('SIGKILL');
      throw new Error(`${entry} (${spec.name}) did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
  }
  return {
    name: spec.name,
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

/** Several servers' probes as one: CPU and peak RSS added up, the worst event-loop delay. */
export function combinedProbe(probes: readonly (Probe | null)[]): Probe | null {
  if (probes.length === 0 || probes.some((probe) => probe === null)) return null;
  const known = probes as Probe[];
  const rss = known.map((probe) => probe.peakRssBytes);
  return {
    cpuMs: known.reduce((sum, probe) => sum + probe.cpuMs, 0),
    eventLoopDelayP99Ms: Math.max(...known.map((probe) => probe.eventLoopDelayP99Ms)),
    peakRssBytes: rss.some((bytes) => bytes === null) ? null : (rss as number[]).reduce((sum, bytes) => sum + bytes, 0),
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
