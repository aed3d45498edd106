// CancelRequest: asks the server, on a new connection, to cancel whatever the backend with this
// process id and secret key is running. Sent when our own query timeout fires: destroying the
// socket alone does not stop the server, which only notices a closed client when it next writes
// (or reads), so a long query would run on, holding its locks. The cancel connection uses the same
// TLS settings as the session (as libpq 17 does), so the secret key is not sent in cleartext when
// the session is encrypted. Best effort: it never rejects, and it is bounded by `timeoutMs`.
import type { Socket } from 'node:net';
import { cancelRequest } from './frontend.ts';
import { openTransport, type Endpoint } from './transport.ts';

export async function sendCancel(endpoint: Endpoint, processId: number, secretKey: number, timeoutMs: number): Promise<void> {
  const sockets: Socket[] = [];
  const deadline = setTimeout(() => sockets.forEach((socket) => socket.destroy()), timeoutMs);
  try {
    const socket = await openTransport(endpoint, (made) => sockets.push(made));
    await new Promise<void>((resolve) => {
      // The server answers nothing: it reads the request and closes.
      socket.once('close', () => resolve());
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.end(cancelRequest(processId, secretKey));
    });
  } catch {
    // Nothing more to do: the session is destroyed either way, and the server ends the query when
    // it finds the client gone.
  } finally {
    clearTimeout(deadline);
    sockets.forEach((socket) => socket.destroy());
  }
}
