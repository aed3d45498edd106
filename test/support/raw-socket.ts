// Raw TCP clients for black-box tests of what fetch cannot send: malformed heads, pipelining,
// half-closes, resets. Every test that needs a socket to the service opens it here.
import { connect, type Socket } from 'node:net';
import type { Service } from './service.ts';

/** A raw TCP connection to the service. Errors are ignored: tests that reset it cause their own. */
export function openSocket(service: Service): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(service.url).port), '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
  });
}

export type RawOptions = {
  /** End the client's side after writing `text`, as a client that has nothing more to send. */
  halfClose?: boolean;
  /** Called after `text` is written. */
  afterWrite?: (socket: Socket) => void;
  /** Called with everything received so far, each time more arrives. */
  onData?: (received: string, socket: Socket) => void;
};

/** Writes `text` on a new connection and resolves with everything the server sent once it closes. */
export async function rawRequest(service: Service, text: string, options: RawOptions = {}): Promise<string> {
  const socket = await openSocket(service);
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      options.onData?.(received, socket);
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    if (options.halfClose === true) socket.end(text);
    else socket.write(text);
    options.afterWrite?.(socket);
  });
}

/** rawRequest, then the client half-closes: it has sent all it will. */
export const rawExchange = (service: Service, text: string) => rawRequest(service, text, { halfClose: true });
