// Messages from the socket, one `await` at a time, for the startup phase (authentication is a
// dialogue, easiest read as a loop). Messages already received come out before a failure, so an
// ErrorResponse that the server sends just before closing (a wrong password) is what the caller
// sees, not the closed socket. After startup, the connection takes the socket over (`release`).
import type { Socket } from 'node:net';
import type { BackendMessage, MessageReader } from './message-reader.ts';
import { PgClientError } from './pg-client-error.ts';

/** Startup needs a handful of messages at a time; a server sending far more is misbehaving. */
const MAX_PENDING = 1000;

export type Inbox = {
  next(): Promise<BackendMessage>;
  /** Stops listening and returns the messages received but not read yet. */
  release(): BackendMessage[];
};

export function createInbox(socket: Socket, reader: MessageReader): Inbox {
  const pending: BackendMessage[] = [];
  let failure: Error | null = null;
  let waiter: { resolve: (message: BackendMessage) => void; reject: (error: Error) => void } | null = null;

  function wake(): void {
    if (waiter === null) return;
    const { resolve, reject } = waiter;
    const message = pending.shift();
    if (message !== undefined) {
      waiter = null;
      resolve(message);
    } else if (failure !== null) {
      waiter = null;
      reject(failure);
    }
  }

  function fail(error: Error): void {
    failure ??= error;
    socket.destroy();
    wake();
  }

  const onData = (chunk: Buffer) => {
    if (failure !== null) return;
    try {
      pending.push(...reader.push(chunk));
    } catch (error) {
      return fail(error as Error);
    }
    if (pending.length > MAX_PENDING) return fail(new PgClientError('protocol_violation', 'too many messages during startup'));
    wake();
  };
  const onError = (error: Error) => fail(error instanceof PgClientError ? error : new PgClientError('connection_lost', null, { cause: error }));
  const onClose = () => fail(new PgClientError('connection_lost', 'during startup'));
  socket.on('data', onData).on('error', onError).on('close', onClose);
  socket.resume();

  return {
    next() {
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        wake();
      });
    },
    release() {
      socket.off('data', onData).off('error', onError).off('close', onClose);
      return pending.splice(0);
    },
  };
}
