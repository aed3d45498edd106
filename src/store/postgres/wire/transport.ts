// The byte stream to the server: a TCP connection and, unless TLS is disabled, TLS negotiated the
// protocol 3.0 way: an SSLRequest, a one-byte answer, then the handshake on the same socket.
// - A server answering 'N' (no TLS) is refused when TLS was asked for: we never carry on in
//   cleartext, since whoever answered could be anyone on the path.
// - The 'S' byte must come alone. Bytes after it and before the handshake were not protected by
//   TLS; a client that kept them would later read them as if they came through the encrypted
//   channel, which lets a man in the middle inject messages (CVE-2021-23214 in the server,
//   CVE-2021-23222 in libpq). They are refused. Bytes that arrive afterwards go into the TLS layer,
//   which rejects them as a broken handshake.
// - require encrypts but verifies nothing (a man in the middle can still present its own
//   certificate); verify-full checks the chain against the CA file (or Node's default CAs) and the
//   host name or IP address against the certificate's names.
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { sslRequest } from './frontend.ts';
import { PgClientError } from './pg-client-error.ts';

export type TlsOptions = { mode: 'disable' } | { mode: 'require' } | { mode: 'verify-full'; caFile: string | null };

export type Endpoint = { host: string; port: number; tls: TlsOptions };

/**
 * Opens the stream to the server, TLS included. `track` is handed each socket as it is made, so
 * the caller's deadline can destroy it; a destroyed socket rejects this promise.
 */
export async function openTransport(endpoint: Endpoint, track: (socket: Socket) => void): Promise<Socket | TLSSocket> {
  // Read before connecting (at each connection, so a replaced CA file is picked up): nothing may
  // wait between the server's TLS answer and the handshake.
  const ca = endpoint.tls.mode === 'verify-full' && endpoint.tls.caFile !== null ? await readCa(endpoint.tls.caFile) : undefined;
  const socket = await openSocket(endpoint, track);
  if (endpoint.tls.mode === 'disable') return socket;
  socket.write(sslRequest());
  const answer = await readAnswer(socket);
  if (answer !== 'S') {
    socket.destroy();
    // 'N', or an ErrorResponse from a server too old for SSLRequest: neither is authenticated.
    throw new PgClientError('tls_refused');
  }
  return handshake(socket, endpoint, ca, track);
}

function openSocket(endpoint: Endpoint, track: (socket: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: endpoint.host, port: endpoint.port });
    track(socket);
    const onError = (error: Error) => {
      socket.off('connect', onConnect);
      reject(error instanceof PgClientError ? error : new PgClientError('connect_failed', null, { cause: error }));
    };
    const onConnect = () => {
      socket.off('error', onError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      resolve(socket);
    };
    socket.once('error', onError).once('connect', onConnect);
  });
}

/** The one-byte answer to SSLRequest; it must arrive alone (see the file header). */
function readAnswer(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = () => socket.off('data', onData).off('error', onEnd).off('close', onEnd);
    const onData = (chunk: Buffer) => {
      done();
      // Stop the flow until TLS takes the socket over, so nothing is read in cleartext meanwhile.
      socket.pause();
      if (chunk.length !== 1) {
        socket.destroy();
        reject(new PgClientError('protocol_violation', 'data came with the TLS answer, before the handshake'));
        return;
      }
      resolve(String.fromCharCode(chunk[0] as number));
    };
    const onEnd = (error?: unknown) => {
      done();
      reject(error instanceof PgClientError ? error : new PgClientError('connection_lost', 'before the TLS answer'));
    };
    socket.on('data', onData).once('error', onEnd).once('close', onEnd);
  });
}

async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new PgClientError('tls_failed', 'cannot read the CA file', { cause: error });
  }
}

function handshake(socket: Socket, endpoint: Endpoint, ca: Buffer | undefined, track: (socket: Socket) => void): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const verify = endpoint.tls.mode === 'verify-full';
    const secure = connectTls({
      socket,
      // The name checked against the certificate (Node's checkServerIdentity: DNS or IP SANs).
      host: endpoint.host,
      // SNI carries names only, never addresses.
      ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      rejectUnauthorized: verify,
      ...(ca === undefined ? {} : { ca }),
    });
    track(secure);
    const onError = (error: Error) => {
      secure.off('secureConnect', onSecure);
      socket.destroy();
      reject(error instanceof PgClientError ? error : new PgClientError('tls_failed', null, { cause: error }));
    };
    const onSecure = () => {
      secure.off('error', onError);
      resolve(secure);
    };
    secure.once('error', onError).once('secureConnect', onSecure);
  });
}
