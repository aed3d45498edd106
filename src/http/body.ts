// Reading request bodies within two byte budgets. Each body: enforced from Content-Length before
// reading (a liar or a chunked body is caught by the second check) and on the running count while
// streaming, so an oversized body is refused with 413 and never buffered or truncated. All bodies
// together (BodyBudget): the signature can only be checked once a body is whole, so until then any
// client can make us hold its bytes; slow clients by the hundred could otherwise hold enough to
// exhaust memory. A body that would go past that budget is refused with 503 and Retry-After.
//
// What is charged is the memory a body really holds. Each chunk is copied into one buffer per
// body, grown as bytes arrive: a chunk Node hands over is a view that keeps its whole socket read
// alive, so a body sent in 1-byte chunks would otherwise hold hundreds of bytes per byte. Nothing
// is held for a declared length before its bytes arrive, so clients that only send headers
// declaring large bodies hold no budget from anyone else.
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
  /** Whether `bytes` more would fit now (taking nothing). */
  fits(bytes: number): boolean;
  /** Takes `bytes` from the budget; false (taking nothing) when fewer are left. */
  take(bytes: number): boolean;
  giveBack(bytes: number): void;
  /** Bytes taken now, for metrics. */
  held(): number;
};

export function createBodyBudget(limit: number): BodyBudget {
  let held = 0;
  return {
    fits: (bytes) => held + bytes <= limit,
    take(bytes) {
      if (held + bytes > limit) return false;
      held += bytes;
      return true;
    },
    giveBack(bytes) {
      held -= bytes;
    },
    held: () => held,
  };
}

export type BodyLimits = { maxBytes: number; budget: BodyBudget };

/** Where a growing body buffer starts, unless the declared length is smaller. */
const INITIAL_CAPACITY = 4096;

/**
 * Reads the whole body into one buffer, taking from the budget as that buffer grows (at most
 * doubling, so it holds at most twice what has arrived, never more than the declared length or
 * maxBytes) and giving everything back once reading ends, however it ends. A declared length that
 * does not fit in what the budget has left is refused at once; `inviteBody` (RequestContext) is
 * called once the declared length is within both limits.
 */
export function readBody(req: IncomingMessage, { maxBytes, budget }: BodyLimits, inviteBody: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    assertDeclaredLength(req, maxBytes);
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && !budget.fits(declared)) throw new HttpError('unavailable');
    const largest = Math.min(maxBytes, declared ?? maxBytes);
    inviteBody();
    let buffer = Buffer.alloc(0);
    let received = 0;
    const settle = (error: HttpError | null) => {
      req.off('data', onData).off('end', onEnd).off('error', onIncomplete).off('close', onClose);
      budget.giveBack(buffer.length);
      if (error !== null) {
        // Stop reading; the response closes the connection (see app.ts), so the unread rest of
        // the body is never buffered.
        req.pause();
        reject(error);
      } else {
        resolve(buffer.subarray(0, received));
      }
    };
    const onData = (chunk: Buffer) => {
      const needed = received + chunk.length;
      if (needed > maxBytes) return settle(new HttpError('payload_too_large'));
      if (needed > buffer.length) {
        const capacity = Math.min(largest, Math.max(needed, 2 * buffer.length, INITIAL_CAPACITY));
        if (!budget.take(capacity - buffer.length)) return settle(new HttpError('unavailable'));
        const grown = Buffer.allocUnsafe(capacity);
        buffer.copy(grown, 0, 0, received);
        buffer = grown;
      }
      chunk.copy(buffer, received);
      received = needed;
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
