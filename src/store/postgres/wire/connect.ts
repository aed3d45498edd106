// connect(): one authenticated session, ready for queries, within connectTimeoutMs (TCP, TLS and
// authentication together). Options and their defaults are here; url.ts reads them from a URL.
import type { Socket } from 'node:net';
import { sendCancel } from './cancel.ts';
import { createConnection, type PgConnection, type PgNotification } from './connection.ts';
import { createInbox } from './inbox.ts';
import { createMessageReader } from './message-reader.ts';
import { PgClientError } from './pg-client-error.ts';
import type { PgNotice } from './pg-error.ts';
import { startSession } from './startup.ts';
import { openTransport, type TlsOptions } from './transport.ts';

export type ConnectOptions = {
  host: string;
  /** 5432 */
  port?: number;
  user: string;
  password?: string | null;
  /** The user name, as libpq. */
  database?: string;
  /** No default here: url.ts defaults to verify-full, and says why. */
  tls: TlsOptions;
  applicationName?: string | null;
  /** Extra startup parameters, such as { options: '-c statement_timeout=5s' }. */
  parameters?: Readonly<Record<string, string>>;
  /** true: refuse a server that lets us in without SCRAM-SHA-256 (see startup.ts). */
  requireScram?: boolean;
  /** 10 s: TCP, TLS and authentication together. */
  connectTimeoutMs?: number;
  /** 30 s: the default timeout of each query (see connection.ts). */
  queryTimeoutMs?: number;
  /** 5 s: how long close() waits for running queries, then for the server to close. */
  closeTimeoutMs?: number;
  /** true: send a CancelRequest when a query times out. */
  cancelOnTimeout?: boolean;
  /** 64 MiB: a longer message from the server ends the connection. */
  maxMessageBytes?: number;
  /** 64 MiB: the most row data one query (or pipeline) may return; more rejects it. */
  maxResultBytes?: number;
  /** null (no limit): the most rows one statement may return; more rejects the query. */
  maxRows?: number | null;
  /** Notices (RAISE NOTICE, warnings): their `server` text may hold data, never log it. Dropped by default. */
  onNotice?: (notice: PgNotice) => void;
  onNotification?: (notification: PgNotification) => void;
};

const MiB = 1024 * 1024;

function positive(name: string, value: number | undefined, fallback: number, max = 2_147_483_647): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > max) {
    throw new PgClientError('invalid_options', `${name} must be a whole number from 1 to ${max}`);
  }
  return chosen;
}

export async function connect(options: ConnectOptions): Promise<PgConnection> {
  const port = positive('port', options.port, 5432, 65535);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 10_000);
  const queryTimeoutMs = positive('queryTimeoutMs', options.queryTimeoutMs, 30_000);
  const closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs, 5_000);
  const maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes, 64 * MiB, 1024 * MiB);
  const maxResultBytes = positive('maxResultBytes', options.maxResultBytes, 64 * MiB);
  const maxRows = options.maxRows == null ? null : positive('maxRows', options.maxRows, 0, 2_147_483_646);
  const endpoint = { host: options.host, port, tls: options.tls };

  const sockets: Socket[] = [];
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    for (const socket of sockets) socket.destroy();
  }, connectTimeoutMs);
  try {
    const socket = await openTransport(endpoint, (made) => sockets.push(made));
    const reader = createMessageReader(maxMessageBytes);
    const inbox = createInbox(socket, reader);
    const session = await startSession(inbox, (bytes) => socket.write(bytes), {
      user: options.user,
      database: options.database ?? options.user,
      password: options.password ?? null,
      applicationName: options.applicationName ?? null,
      parameters: options.parameters ?? {},
      requireScram: options.requireScram ?? true,
      verified: options.tls.mode === 'verify-full',
      onNotice: options.onNotice ?? null,
    });
    const { processId, secretKey } = session;
    const cancel =
      (options.cancelOnTimeout ?? true) && processId !== null && secretKey !== null
        ? () => sendCancel(endpoint, processId, secretKey, connectTimeoutMs)
        : null;
    return createConnection(socket, reader, session, inbox.release(), {
      queryTimeoutMs,
      closeTimeoutMs,
      limits: { maxRows, maxResultBytes },
      onNotice: options.onNotice ?? null,
      onNotification: options.onNotification ?? null,
      cancel,
    });
  } catch (error) {
    for (const socket of sockets) socket.destroy();
    if (timedOut) throw new PgClientError('connect_timeout', null, { cause: error });
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}
