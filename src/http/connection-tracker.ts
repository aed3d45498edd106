// What the service knows about each open connection, in one place: which requests on it are still
// waiting for their answer, so answers go out in request order and a client that pipelines without
// reading is bounded (dispatch.ts), and what Node's parser has done to it, so a failure is answered
// in its turn and only once (client-error.ts). State is kept per socket, so one tracker can serve every
// listener of an app; two apps share nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Connection = {
  /** Settles once the newest request's answer has been handed to the OS (or the request was dropped). */
  lastAnswered: Promise<void>;
  /** Requests whose answer has not been handed over yet. */
  waiting: number;
  /** The newest request parsed on this connection. */
  lastResponse: ServerResponse;
  /** Requests whose response has not closed yet. */
  unclosed: number;
  /** What to do once no more than `waitFor` responses are unclosed (client-error.ts). */
  pending: { waitFor: number; then: () => void } | null;
};

export type ConnectionTracker = {
  /**
   * Registers a request as it arrives (dispatch calls it first, for every request). Returns what
   * the request must wait for before it is handled: the answer before it on its connection, or
   * undefined when there is none; and how many requests on the connection were waiting already.
   */
  admit(req: IncomingMessage, res: ServerResponse): { before: Promise<void> | undefined; waitingBefore: number };
  /** The newest request on a socket, if one has been parsed. */
  lastResponse(socket: Socket): ServerResponse | undefined;
  /** Runs `then` once at most `waitFor` requests on the socket have an unclosed response. */
  afterEarlierAnswers(socket: Socket, waitFor: number, then: () => void): void;
  /** Marks a request whose body the parser rejected: it has been answered 400 outside its handler. */
  rejectBody(req: IncomingMessage): void;
  isBodyRejected(req: IncomingMessage): boolean;
  /** True the first time it is asked for a socket whose parser failed, false after. */
  firstParserFailure(socket: Socket): boolean;
};

export function createConnectionTracker(): ConnectionTracker {
  const connections = new WeakMap<Socket, Connection>();
  const rejectedBodies = new WeakSet<IncomingMessage>();
  const failed = new WeakSet<Socket>();

  return {
    admit(req, res) {
      const { socket } = req;
      const connection = connections.get(socket) ?? {
        lastAnswered: Promise.resolve(),
        waiting: 0,
        lastResponse: res,
        unclosed: 0,
        pending: null,
      };
      connections.set(socket, connection);
      connection.lastResponse = res;
      connection.unclosed++;
      res.once('close', () => {
        connection.unclosed--;
        const { pending } = connection;
        if (pending !== null && connection.unclosed <= pending.waitFor) {
          connection.pending = null;
          pending.then();
        }
      });
      const waitingBefore = connection.waiting;
      const before = waitingBefore === 0 ? undefined : connection.lastAnswered;
      connection.waiting++;
      connection.lastAnswered = new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
      void connection.lastAnswered.then(() => connection.waiting--);
      return { before, waitingBefore };
    },
    lastResponse: (socket) => connections.get(socket)?.lastResponse,
    afterEarlierAnswers(socket, waitFor, then) {
      const connection = connections.get(socket);
      if (connection === undefined || connection.unclosed <= waitFor) then();
      else connection.pending ??= { waitFor, then };
    },
    rejectBody: (req) => void rejectedBodies.add(req),
    isBodyRejected: (req) => rejectedBodies.has(req),
    firstParserFailure(socket) {
      if (failed.has(socket)) return false;
      failed.add(socket);
      return true;
    },
  };
}
