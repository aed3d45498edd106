// The PostgreSQL of the postgres scenario: the server BENCH_DATABASE_URL names, or a throwaway
// cluster from scripts/pg-test-cluster.sh, stopped and removed at the end. Each measurement gets a
// schema of its own, named first in the search_path of the service's sessions (the URL's `options`,
// as test/support/postgres-store.ts does), and dropped with everything in it afterwards.
//
// The CPU time PostgreSQL spends is read from /proc: the postmaster (the parent of the bench's own
// session) and every process it started, backends, walwriter, checkpointer and autovacuum included;
// a child that exited counts through its parent's cutime/cstime. It is null when that server's
// processes are not on this machine, or not visible (another PID namespace, another user).
// URLs are never printed: they hold the password.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool } from '../../src/store/postgres/wire/pool.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../src/store/postgres/wire/url.ts';
import { ROOT } from './servers.ts';

const CLUSTER_SCRIPT = join(ROOT, 'scripts/pg-test-cluster.sh');

export type BenchPostgres = { url: string; origin: string; stop(): void };
export type BenchSchema = {
  /** The server's URL with this schema first in the search_path. */
  url: string;
  /** PostgreSQL's CPU seconds so far, or null when its processes cannot be read. */
  cpuSeconds(): number | null;
  /** What the server says about itself: version, fsync, synchronous_commit. */
  facts(): Promise<string>;
  drop(): Promise<void>;
};

export function openBenchPostgres(): BenchPostgres {
  const given = process.env.BENCH_DATABASE_URL;
  if (given !== undefined && given !== '') return { url: given, origin: 'BENCH_DATABASE_URL', stop() {} };
  const started = spawnSync('bash', [CLUSTER_SCRIPT, 'start'], { encoding: 'utf8' });
  const exports = new Map([...(started.stdout ?? '').matchAll(/^export (\w+)='(.*)'$/gm)].map((match) => [match[1] as string, match[2] as string]));
  const url = exports.get('TEST_DATABASE_URL');
  const dir = exports.get('PG_TEST_CLUSTER_DIR');
  if (started.status !== 0 || url === undefined || dir === undefined) {
    throw new Error(`postgres: set BENCH_DATABASE_URL, or let scripts/pg-test-cluster.sh start a cluster (it said: ${started.stderr.trim()})`);
  }
  return { url, origin: 'throwaway cluster (scripts/pg-test-cluster.sh)', stop: () => void spawnSync('bash', [CLUSTER_SCRIPT, 'stop', dir], { stdio: 'ignore' }) };
}

export async function freshSchema(url: string): Promise<BenchSchema> {
  const parsed = parseDatabaseUrl(url);
  if (!parsed.ok) throw new Error(`BENCH_DATABASE_URL: ${parsed.error}`);
  const settings: DatabaseUrl = parsed.value;
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = createPool({
    host: settings.host, port: settings.port, user: settings.user, password: settings.password, database: settings.database,
    tls: settings.tls, parameters: settings.parameters, applicationName: 'webhook-bench', size: 1,
  });
  let postmaster: number | null;
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const [pid] = (await admin.query('SELECT pg_backend_pid()')).rows[0] ?? [];
    postmaster = parentPostgres(Number(pid));
  } catch (error) {
    await admin.close();
    throw error;
  }
  // pg_trgm lives in public (where the cluster script creates it): it stays in the path, second.
  const options = [settings.parameters.options, `-c search_path=${schema},public`].filter((part) => part !== undefined).join(' ');
  const [base = '', query = ''] = url.split('?', 2);
  const kept = query.split('&').filter((pair) => pair !== '' && !pair.startsWith('options='));
  return {
    url: `${base}?${[...kept, `options=${encodeURIComponent(options)}`].join('&')}`,
    cpuSeconds: () => (postmaster === null ? null : treeCpuSeconds(postmaster)),
    async facts() {
      const [row] = (await admin.query("SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')")).rows;
      return `PostgreSQL ${row?.[0]}, fsync ${row?.[1]}, synchronous_commit ${row?.[2]}`;
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
}

type Stat = { ppid: number; ticks: number };

/** utime, stime, cutime and cstime of a process, in clock ticks, and its parent. */
function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    const [ppid = 0, utime = 0, stime = 0, cutime = 0, cstime = 0] = [fields[1], fields[11], fields[12], fields[13], fields[14]];
    return { ppid, ticks: utime + stime + cutime + cstime };
  } catch {
    return null;
  }
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
};

/** The postmaster of a backend, if both are local PostgreSQL processes. */
function parentPostgres(backend: number): number | null {
  const parent = readStat(backend)?.ppid;
  if (parent === undefined || !/postgres/.test(commandOf(backend)) || !/postgres/.test(commandOf(parent))) return null;
  return parent;
}

const ticksPerSecond = (() => {
  const answer = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return answer > 0 ? answer : 100;
})();

function treeCpuSeconds(postmaster: number): number | null {
  const own = readStat(postmaster);
  if (own === null) return null;
  let ticks = own.ticks;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === postmaster) ticks += stat.ticks;
  }
  return ticks / ticksPerSecond;
}
