// The seam every signature scheme plugs into. A scheme checks a request's headers and its raw body
// bytes against a list of keys (several, so a secret can be rotated without a window of refusals),
// at an instant it is given (schemes with timestamps need one; tests inject it), and says which key
// matched or why it refused. It never throws: whatever a client sends becomes a refusal.
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type SignatureCheck = {
  headers: IncomingHttpHeaders;
  /** The body exactly as received: a signature is always checked over these bytes, never a re-serialisation. */
  body: Uint8Array;
  /**
   * The keys a valid signature may be made with, in configured order. KeyObjects, not bytes: HMAC
   * takes one several times faster than a Buffer, and printing one never shows the secret.
   */
  keys: readonly KeyObject[];
  /** Milliseconds since the Unix epoch. */
  now: number;
};

/** Why a request's signature was refused; logged, never answered in more detail than 401. */
export type SignatureRefusal = 'missing' | 'malformed' | 'mismatch' | 'stale';

export type SignatureVerdict = { ok: true; keyIndex: number } | { ok: false; reason: SignatureRefusal };

export type SignatureScheme = {
  /** Verifies in constant time per key; never throws. */
  verify(check: SignatureCheck): SignatureVerdict;
};
