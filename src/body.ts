// Reading request bodies within two byte budgets. Each body: enforced from Content-Length before
// reading (a liar or a chunked body is caught by the second check) and on the running count while
// streaming, so an oversized body is refused with 413 and never buffered or truncated. All bodies
// together (BodyBudget): the signature can only be checked once a body is whole, so until then any
// client can make us hold its bytes; slow clients by the hundred could otherwise hold enough to
// exhaust memory. A body that would go past that budget is refused with 503 and Retry-After.
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

/** The bytes that all bodies being read may hold at once; one per app, shared by its requests. */
export type BodyBudget = {
  /** Takes `bytes` from the budget; false (taking nothing) when fewer are left. */
  take(bytes: number): boolean;
  giveBack(bytes: number): void;
};

export function createBodyBudget(limit: number): BodyBudget {
  let held = 0;
  return {
    take(bytes) {
      if (held + bytes > limit) return false;
      held += bytes;
      return true;
    },
    giveBack(bytes) {
      held -= bytes;
    },
  };
}

export type BodyLimits = { maxBytes: number; budget: BodyBudget };

/**
 * Reads the whole body. A declared Content-Length is taken from the budget before reading, a
 * chunked body chunk by chunk; all of it is given back once reading ends, however it ends.
 * `inviteBody` (RequestContext) is called once the declared length is within both limits.
 */
export function readBody(req: IncomingMessage, { maxBytes, budget }: BodyLimits, inviteBody: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    assertDeclaredLength(req, maxBytes);
    const declared = req.headers['content-length'] === undefined ? 0 : Number(req.headers['content-length']);
    if (!budget.take(declared)) throw new HttpError('unavailable');
    let taken = declared;
    inviteBody();
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (error: HttpError | null) => {
      req.off('data', onData).off('end', onEnd).off('error', onIncomplete).off('close', onClose);
      budget.giveBack(taken);
      taken = 0;
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
      if (received > maxBytes) return settle(new HttpError('payload_too_large'));
      // Only what goes past the declared length (a chunked body declares none) is taken now.
      const more = received - taken;
      if (more > 0) {
        if (!budget.take(more)) return settle(new HttpError('unavailable'));
        taken += more;
      }
      chunks.push(chunk);
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
