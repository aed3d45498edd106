// Black-box test support: runs the real entry point (node src/server.ts) as a child process on
// 127.0.0.1, port 0, with a fresh database (a SQLite file in a temp dir, or with
// TEST_BACKEND=postgres a schema of its own: service-database.ts), and talks to it over HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import type { Backend } from './backend.ts';
import { serviceDatabase, type ServiceDatabase, type StoredRow } from './service-database.ts';
import { tempDir } from './temp-dir.ts';

export type { StoredRow } from './service-database.ts';

export const SECRET = 'test-secret-0123456789abcdef';
const ENTRY = new URL('../../src/server.ts', import.meta.url).pathname;

export type Service = {
  url: string;
  backend: Backend;
  /** Where the service keeps its data; a service started again with the same `dir` finds it there. */
  database: ServiceDatabase;
  /** The SQLite file (`dir`/app.db); on PostgreSQL no such file exists. */
  dbPath: string;
  dir: string;
  /** Every stdout line so far, parsed as JSON. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line, already written or still to come, that matches. */
  waitForLog: (match: (entry: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  stderr: () => string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited and its output is read. */
  exited: Promise<number | string>;
};

/**
 * `port`: listen on this port and wait until it answers, for services that do not log the
 * `listening` line (LOG_LEVEL=ERROR); otherwise port 0, read from the `listening` line.
 */
export type StartOptions = {
  env?: Record<string, string | undefined>;
  dir?: string;
  port?: number;
  /** Node options before the entry point, such as a fault-injection `--import`. */
  nodeArgs?: string[];
};

export async function startService(t: TestContext, options: StartOptions = {}): Promise<Service> {
  const dir = options.dir ?? tempDir(t);
  const dbPath = join(dir, 'app.db');
  const database = await serviceDatabase(t, dir);
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    WEBHOOK_SECRET: SECRET,
    DATABASE_URL: database.url,
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'INFO',
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];

  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (entry: Record<string, unknown>) => boolean; resolve: (entry: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.after(stop);
  database.usedBy(stop);

  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const waiter of waiters.filter((w) => w.match(entry))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(entry);
        }
        if (entry.msg === 'listening') resolve(entry.port as number);
      }
    });
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening: ${stderr}`)));
    if (options.port !== undefined) void waitUntilAnswering(options.port, exited).then(resolve, reject);
  });

  const waitForLog = (match: (entry: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = logs.find(match);
      if (found !== undefined) return resolve(found);
      waiters.push({ match, resolve });
      void exited.then((code) => reject(new Error(`service exited (${code}) before the awaited log line`)));
    });

  return { url: `http://127.0.0.1:${port}`, backend: database.backend, database, dbPath, dir, logs, waitForLog, stderr: () => stderr, child, exited };
}

/** A port that was free a moment ago, for a service that must be told its port in advance. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function waitUntilAnswering(port: number, exited: Promise<unknown>): Promise<number> {
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    try {
      await fetch(`http://127.0.0.1:${port}/health/live`);
      return port;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error('service exited before answering');
}

/**
 * Spawns an entry point (the server by default) and waits for it to exit: for configuration errors
 * that stop startup, and for one-shot scripts such as the healthcheck.
 */
export async function runToExit(
  env: Record<string, string>,
  entry: string = ENTRY,
  args: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

export type Message = { message_id: string; from: string; to: string; ts: string; text?: string | null };

export function message(id: string, overrides: Partial<Message> = {}): Message {
  return { message_id: id, from: '+919876543210', to: '+14155550100', ts: '2025-01-15T10:00:00Z', text: 'hello', ...overrides };
}

/** A message as the API lists it. */
export type ListedMessage = { message_id: string; from: string; to: string; ts: string; text: string | null };

/**
 * The JSON body of any answer of this API, as tests read it: every field some answer carries,
 * each optional, so a test reads what it asserts without a cast.
 */
export type AnswerBody = {
  status?: string;
  detail?: string | { loc: (string | number)[]; msg: string; type: string }[];
  checks?: Record<string, string>;
  data?: ListedMessage[];
  total?: number;
  limit?: number;
  offset?: number;
  total_messages?: number;
  senders_count?: number;
  messages_per_sender?: { from: string; count: number }[];
  first_message_ts?: string | null;
  last_message_ts?: string | null;
};

export type JsonAnswer = { status: number; headers: Headers; body: AnswerBody };

/** The ids of a listing, in order; fails the test when the answer is not a listing. */
export function idsOf(body: AnswerBody): string[] {
  assert.ok(Array.isArray(body.data), 'the answer is a listing');
  return body.data.map((item) => item.message_id);
}

/** Where each validation issue of a 422 points; fails the test when the answer holds no issues. */
export function issueLocations(body: AnswerBody): (string | number)[][] {
  assert.ok(Array.isArray(body.detail), 'the answer is a list of validation issues');
  return body.detail.map((issue) => issue.loc);
}

export type PostOptions = { secret?: string; signature?: string | null; headers?: Record<string, string> };

/** POSTs a body to /webhook signed over its exact bytes (unless a signature is given or null). */
export async function postWebhook(service: Pick<Service, 'url'>, body: unknown, options: PostOptions = {}): Promise<JsonAnswer> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  const signature = options.signature === undefined ? signBody(options.secret ?? SECRET, raw) : options.signature;
  if (signature !== null) headers['X-Signature'] = signature;
  const response = await fetch(`${service.url}/webhook`, { method: 'POST', headers, body: raw });
  return { status: response.status, headers: response.headers, body: (await response.json()) as AnswerBody };
}

/** The messages the service has stored, read from its database behind its back, ordered by message_id. */
export function storedRows(service: Pick<Service, 'database'>): Promise<StoredRow[]> {
  return service.database.rows();
}

/** GETs a path (with its query string) and parses the JSON answer. */
export async function getJson(service: Pick<Service, 'url'>, path: string): Promise<JsonAnswer> {
  const response = await fetch(`${service.url}${path}`);
  return { status: response.status, headers: response.headers, body: (await response.json()) as AnswerBody };
}

/** POSTs each message in order, asserting every one is accepted. */
export async function postAll(service: Pick<Service, 'url'>, messages: readonly Message[]): Promise<void> {
  for (const sent of messages) {
    const reply = await postWebhook(service, sent);
    if (reply.status !== 200) throw new Error(`seeding ${sent.message_id} answered ${reply.status}`);
  }
}

/** The next page's path from a Link header, or null when there is none. */
export function nextLink(headers: Headers): string | null {
  const link = headers.get('link');
  if (link === null) return null;
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(match, `unexpected Link header: ${link}`);
  return match[1] as string;
}

/** Follows Link headers from `path` to the end, returning every page's ids and the paths used. */
export async function walk(service: Pick<Service, 'url'>, path: string): Promise<{ pages: string[][]; paths: string[] }> {
  const pages: string[][] = [];
  const paths: string[] = [];
  for (let next: string | null = path; next !== null && pages.length < 100; ) {
    paths.push(next);
    const reply = await getJson(service, next);
    assert.equal(reply.status, 200);
    pages.push(idsOf(reply.body));
    next = nextLink(reply.headers);
  }
  return { pages, paths };
}
