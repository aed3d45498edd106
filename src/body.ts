// Reading request bodies within a byte budget. The budget is enforced twice: from Content-Length
// before reading (a liar or a chunked body is caught by the second check) and on the running count
// while streaming, so an oversized body is refused with 413 and never buffered or truncated.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';

export function assertJsonContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  if (header === undefined) return;
  const mediaType = (header.split(';', 1)[0] ?? '').trim().toLowerCase();
  const isJson = mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
  if (!isJson) throw new HttpError('unsupported_media_type');
}

export function assertDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw new HttpError('payload_too_large');
}

/** Reads the whole body; `inviteBody` (RequestContext) is called once the declared length is within budget. */
export function readBody(req: IncomingMessage, maxBytes: number, inviteBody: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    assertDeclaredLength(req, maxBytes);
    inviteBody();
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (error: HttpError | null) => {
      req.off('data', onData).off('end', onEnd).off('error', onIncomplete).off('close', onClose);
      if (error !== null) {
        // Stop reading; the response closes the connection (see app.ts), so the unread rest of
        // the body is never buffered.
        req.pause();
        reject(error);
      } else {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) settle(new HttpError('payload_too_large'));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(null);
    // A client that aborts mid-body is a client problem, not a server fault worth a 500.
    const onIncomplete = () => settle(new HttpError('body_incomplete'));
    const onClose = () => {
      if (!req.complete) onIncomplete();
    };
    req.on('data', onData).on('end', onEnd).on('error', onIncomplete).on('close', onClose);
  });
}
