// The Standard Webhooks scheme (standardwebhooks.com; spec/standard-webhooks.md in the repository
// standard-webhooks/standard-webhooks). Three headers: `webhook-id`, `webhook-timestamp` (Unix
// seconds) and `webhook-signature`, a space-separated list of `<version>,<signature>` entries. A `v1`
// entry is the base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed by the bytes of a secret
// shown as `whsec_<base64>`. Other versions (`v1a`, asymmetric) are not ours to check and are skipped.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SignatureScheme, SignatureVerdict } from '../signature-scheme.ts';
import { matchingKey } from './hmac-match.ts';

const SECRET_PREFIX = 'whsec_';
/** The spec's bounds on a symmetric secret: at least 24 random bytes, at most 512 bits. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * What a webhook-id may hold: letters, digits and `_ - : + / =` (Svix-style `msg_…` ids, UUIDs,
 * base64). Never a `.`, which separates the signed fields: with one, a signature over
 * (`a.1`, `2`, body) would also be a signature over (`a`, `1`, `2.` + body). Never a space or a
 * comma either, so a repeated header (joined with ", ") is refused as malformed.
 */
const WEBHOOK_ID = /^[A-Za-z0-9_:+/=-]{1,256}$/;
/** Unix seconds in their one canonical form (no sign, no leading zero, no fraction), at most 12 digits. */
const TIMESTAMP = /^(?:0|[1-9]\d{0,11})$/;
/** Rotation needs two or three entries; sixteen leaves room and bounds the work one request can ask for. */
const MAX_SIGNATURE_ENTRIES = 16;
const MAX_SIGNATURE_HEADER_CHARACTERS = 4096;
const ENTRY = /^([A-Za-z0-9]{1,16}),(\S+)$/;
/** A v1 signature: the canonical base64 of 32 bytes. */
const V1_SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;

export type StandardWebhooksOptions = {
  /** How far `webhook-timestamp` may be from now, either way, in seconds: beyond it a request is a replay. */
  toleranceSeconds: number;
};

export type StandardWebhookHeaders = { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };

/**
 * The key of a secret as providers show it, `whsec_` and standard base64, or the base64 alone: the
 * reference libraries (JavaScript, Python) accept both, so a secret pasted without its prefix works
 * as it does there. Null for anything else, including base64 that decodes to fewer than 24 or more
 * than 64 bytes: a short key is refused rather than weakly trusted.
 */
export function parseStandardWebhooksSecret(text: string): KeyObject | null {
  const encoded = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text;
  if (encoded.length > 4 * Math.ceil(MAX_SECRET_BYTES / 3) || !BASE64.test(encoded)) return null;
  if (encoded.endsWith('=') && encoded.length % 4 !== 0) return null;
  const bytes = Buffer.from(encoded, 'base64');
  // Buffer skips what it cannot decode: only text that is the encoding of its bytes is a secret.
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) return null;
  if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) return null;
  return createSecretKey(bytes);
}

/** The three headers a sender puts on `body`, with one v1 signature; for tests and scripts/send.ts. */
export function signStandardWebhook(
  { secret, id, timestamp, body }: { secret: KeyObject; id: string; timestamp: number; body: Uint8Array | string },
): StandardWebhookHeaders {
  const signature = createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

/** Throws a RangeError at startup for a tolerance that is not a whole number of seconds from 0 up. */
export function standardWebhooksScheme({ toleranceSeconds }: StandardWebhooksOptions): SignatureScheme {
  if (!Number.isSafeInteger(toleranceSeconds) || toleranceSeconds < 0) {
    throw new RangeError('toleranceSeconds must be a whole number of seconds, 0 or more');
  }
  return {
    verify({ headers, body, keys, now }) {
      const id = headers['webhook-id'];
      const timestamp = headers['webhook-timestamp'];
      const signature = headers['webhook-signature'];
      if (id === undefined || timestamp === undefined || signature === undefined) return { ok: false, reason: 'missing' };
      if (typeof id !== 'string' || !WEBHOOK_ID.test(id)) return { ok: false, reason: 'malformed' };
      if (typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed' };
      const candidates = v1Signatures(signature);
      if (candidates === null) return { ok: false, reason: 'malformed' };
      // A replayed request carries a valid signature: only its age gives it away. Checked before
      // the HMAC, which costs a pass over the body per key.
      if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > toleranceSeconds) return { ok: false, reason: 'stale' };

      // Each key's digest is computed once however many entries there are, so sixteen entries cost
      // sixteen comparisons, not sixteen passes over a large body.
      const digests = new Map<KeyObject, Buffer>();
      const digest = (key: KeyObject): Buffer => {
        let value = digests.get(key);
        if (value === undefined) {
          // The body joins as bytes, never decoded to text: the signature is over what was sent.
          value = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
          digests.set(key, value);
        }
        return value;
      };
      for (const candidate of candidates) {
        const verdict: SignatureVerdict = matchingKey(candidate, keys, digest);
        if (verdict.ok) return verdict;
      }
      return { ok: false, reason: 'mismatch' };
    },
  };
}

/**
 * The decoded v1 signatures of a webhook-signature header, or null when the header is malformed:
 * not one string, too long, too many entries, an entry that is not `<version>,<value>`, a v1 value
 * that is not the base64 of 32 bytes, or no v1 entry at all (a sender signing only with `v1a` is
 * misconfigured for this source, which a log line should not confuse with a wrong secret).
 */
function v1Signatures(header: IncomingHttpHeaders[string]): Buffer[] | null {
  if (typeof header !== 'string' || header.length > MAX_SIGNATURE_HEADER_CHARACTERS) return null;
  const entries = header.split(' ').filter((entry) => entry !== '');
  if (entries.length === 0 || entries.length > MAX_SIGNATURE_ENTRIES) return null;
  const signatures: Buffer[] = [];
  for (const entry of entries) {
    const match = ENTRY.exec(entry);
    if (match === null) return null;
    const [, version, value = ''] = match;
    if (version !== 'v1') continue;
    if (!V1_SIGNATURE.test(value)) return null;
    signatures.push(Buffer.from(value, 'base64'));
  }
  return signatures.length > 0 ? signatures : null;
}
