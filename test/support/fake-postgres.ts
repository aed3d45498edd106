// A scripted PostgreSQL server on 127.0.0.1, port 0, for the paths a real server will not take on
// demand: wrong SCRAM signatures, bytes injected after 'S', a connection cut mid-query, oversize
// lengths. Each test's script reads what the client sends and writes exact bytes back.
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import type { ConnectOptions } from '../../src/store/postgres/wire/connect.ts';
import * as pg from './pg-messages.ts';

export type FakeSession = {
  socket: Socket;
  /** The next message the client sends; rejects once the client has closed and nothing is left. */
  next(): Promise<pg.FrontendMessage>;
  send(...messages: Buffer[]): void;
  /** Resolves when the client's socket is closed. */
  closed: Promise<void>;
};

export type FakeServer = {
  port: number;
  /** Connection options for this server: no TLS, no SCRAM required (unless overridden). */
  options(overrides?: Partial<ConnectOptions>): ConnectOptions;
  /** CancelRequests received: [processId, secretKey]. */
  cancels: [number, number][];
  /** Sessions started (cancel connections not counted). */
  sessions: FakeSession[];
};

export type Script = (session: FakeSession, index: number) => Promise<void>;

export async function startFakePostgres(t: TestContext, script: Script, port = 0): Promise<FakeServer> {
  const cancels: [number, number][] = [];
  const sessions: FakeSession[] = [];
  const sockets = new Set<Socket>();
  const scripts: Promise<void>[] = [];
  const failures: unknown[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const session = openSession(socket);
    const run = session.next().then(async (first) => {
      if (first.type === 'cancel') {
        cancels.push([first.body.readInt32BE(0), first.body.readInt32BE(4)]);
        socket.end();
        return;
      }
      pushBack(session, first);
      sessions.push(session);
      await script(session, sessions.length - 1);
    });
    // A script's failed assertion fails the test (in t.after); the client leaving early does not.
    scripts.push(run.catch((error: unknown) => {
      socket.destroy();
      if (!(error instanceof Error && error.message === CLIENT_CLOSED)) failures.push(error);
    }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(scripts);
    if (failures.length > 0) throw failures[0];
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    options: (overrides = {}) => ({ host: '127.0.0.1', port: address.port, user: 'u', database: 'd', password: 'pw', tls: { mode: 'disable' }, requireScram: false, ...overrides }),
    cancels,
    sessions,
  };
}

const CLIENT_CLOSED = 'client closed';

const returned = new WeakMap<FakeSession, pg.FrontendMessage[]>();
function pushBack(session: FakeSession, message: pg.FrontendMessage): void {
  returned.get(session)?.unshift(message);
}

function openSession(socket: Socket): FakeSession {
  const reader = pg.createFrontendReader();
  const queue: pg.FrontendMessage[] = [];
  const waiters: ((message: pg.FrontendMessage | null) => void)[] = [];
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    for (const message of reader.push(chunk)) {
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(message);
      else queue.push(message);
    }
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(null);
    resolve();
  }));
  const session: FakeSession = {
    socket,
    next() {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error(CLIENT_CLOSED));
      return new Promise((resolve, reject) => waiters.push((message) => (message === null ? reject(new Error(CLIENT_CLOSED)) : resolve(message))));
    },
    send(...messages) {
      if (!socket.destroyed) socket.write(Buffer.concat(messages));
    },
    closed,
  };
  returned.set(session, queue);
  return session;
}

/** What a healthy server reports after AuthenticationOk, then ReadyForQuery. */
export function sessionStart(processId = 4242, secretKey = 77, encoding = 'UTF8'): Buffer {
  return Buffer.concat([
    pg.parameterStatus('server_encoding', encoding),
    pg.parameterStatus('client_encoding', 'UTF8'),
    pg.parameterStatus('server_version', '15.0'),
    pg.backendKeyData(processId, secretKey),
    pg.readyForQuery(),
  ]);
}

/** Reads the startup message and lets the client in without a password (trust). */
export async function acceptTrust(session: FakeSession): Promise<Record<string, string>> {
  const startup = await session.next();
  assert.equal(startup.type, 'startup');
  session.send(pg.authOk(), sessionStart());
  return pg.startupParameters(startup.body);
}

export type ScramServerOptions = { iterations?: number; tamperSignature?: boolean; okBeforeFinal?: boolean };

/**
 * The server side of SCRAM-SHA-256 for `password`, written from RFC 5802. It checks the client's
 * proof; with `tamperSignature` it sends a wrong server signature, with `okBeforeFinal` it sends
 * AuthenticationOk in place of the SASL final message. Either way it then carries on as if all
 * was well, so the test shows the client is the one that refuses.
 */
export async function acceptScram(session: FakeSession, password: string, options: ScramServerOptions = {}): Promise<'proof ok' | 'proof wrong'> {
  assert.equal((await session.next()).type, 'startup');
  session.send(pg.authSasl('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'));
  const initial = await session.next();
  const mechanismEnd = initial.body.indexOf(0);
  assert.equal(initial.body.toString('latin1', 0, mechanismEnd), 'SCRAM-SHA-256');
  const clientFirst = initial.body.subarray(mechanismEnd + 5).toString('utf8');
  assert.ok(clientFirst.startsWith('n,,'), 'no channel binding announced');
  const clientFirstBare = clientFirst.slice(3);
  const clientNonce = /r=([^,]+)/.exec(clientFirstBare)?.[1] ?? '';
  const salt = randomBytes(16);
  const serverFirst = `r=${clientNonce}${randomBytes(9).toString('base64')},s=${salt.toString('base64')},i=${options.iterations ?? 4096}`;
  session.send(pg.authSaslContinue(serverFirst));
  const response = (await session.next()).body.toString('utf8');
  const withoutProof = response.slice(0, response.indexOf(',p='));
  const proof = Buffer.from(response.slice(response.indexOf(',p=') + 3), 'base64');
  const salted = pbkdf2Sync(password, salt, options.iterations ?? 4096, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const clientKey = hmac(salted, 'Client Key');
  const signature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
  const expectedProof = Buffer.from(clientKey.map((byte, index) => byte ^ (signature[index] as number)));
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
  if (options.tamperSignature) serverSignature[0] = (serverSignature[0] as number) ^ 0xff;
  if (!options.okBeforeFinal) session.send(pg.authSaslFinal(`v=${serverSignature.toString('base64')}`));
  session.send(pg.authOk(), sessionStart());
  return proof.equals(expectedProof) ? 'proof ok' : 'proof wrong';
}

export type Pipeline = { sqls: string[]; params: (string | null)[][]; executeLimits: number[] };

/** Reads one extended-query pipeline up to its Sync; null when the client sends Terminate or leaves. */
export async function readPipeline(session: FakeSession): Promise<Pipeline | null> {
  const pipeline: Pipeline = { sqls: [], params: [], executeLimits: [] };
  for (;;) {
    let message: pg.FrontendMessage;
    try {
      message = await session.next();
    } catch {
      return null;
    }
    if (message.type === 'X') return null;
    if (message.type === 'S') return pipeline;
    if (message.type === 'P') pipeline.sqls.push(message.body.toString('utf8', 1, message.body.indexOf(0, 1)));
    if (message.type === 'B') pipeline.params.push(readBindParams(message.body));
    if (message.type === 'E') pipeline.executeLimits.push(message.body.readInt32BE(message.body.indexOf(0) + 1));
  }
}

function readBindParams(body: Buffer): (string | null)[] {
  let offset = 2 + body.readUInt16BE(2) * 2 + 2; // portal and statement names (both empty), format codes
  const count = body.readUInt16BE(offset);
  offset += 2;
  const params: (string | null)[] = [];
  for (let index = 0; index < count; index++) {
    const length = body.readInt32BE(offset);
    offset += 4;
    params.push(length === -1 ? null : body.toString('utf8', offset, offset + length));
    if (length > 0) offset += length;
  }
  return params;
}

/** Answers every pipeline with `answer(pipeline)` until the client leaves. */
export async function serveQueries(session: FakeSession, answer: (pipeline: Pipeline) => Buffer | null): Promise<void> {
  for (let pipeline = await readPipeline(session); pipeline !== null; pipeline = await readPipeline(session)) {
    const bytes = answer(pipeline);
    if (bytes !== null) session.send(bytes);
  }
}

/** The answer for pipelines of `SELECT 'x'`-like statements: one row, one column "v" holding the SQL. */
export function echoAnswer(pipeline: Pipeline): Buffer {
  return Buffer.concat([...pipeline.sqls.map((sql) => pg.statementAnswer(['v'], [[sql]], 'SELECT 1')), pg.readyForQuery()]);
}

/**
 * A server that answers one query 50 ms late, then records the next message the client sends (a
 * Terminate, 'X', when the client closes cleanly) in `received` and ends the session.
 */
export function answerLateThenRecord(received: string[]): Script {
  return async (session) => {
    await acceptTrust(session);
    const pipeline = await readPipeline(session);
    await new Promise((resolve) => setTimeout(resolve, 50));
    session.send(echoAnswer(pipeline ?? { sqls: [], params: [], executeLimits: [] }));
    received.push((await session.next()).type);
    session.socket.end();
  };
}
