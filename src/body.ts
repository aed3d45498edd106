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

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  assertDeclaredLength(req, maxBytes);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) throw new HttpError('payload_too_large');
      chunks.push(chunk);
    }
  } catch (error) {
    // A client that aborts mid-body is a client problem, not a server fault worth a 500.
    throw error instanceof HttpError ? error : new HttpError('body_incomplete');
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
}
