// Meta's scheme (WhatsApp Business Cloud API and every Graph webhook): `X-Hub-Signature-256` holds
// `sha256=` and the hex HMAC-SHA256 of the exact raw body bytes, keyed by the app secret.
//
// Meta signs the bytes it sends, in which non-ASCII text is escaped (`\u00e4`) and `/` is `\/`:
// parsing the JSON and serialising it again gives other bytes, so the check is over the body as
// received and nothing else.
import { createHmac, type KeyObject } from 'node:crypto';
import type { SignatureScheme } from '../signature-scheme.ts';
import { matchingKey } from './hmac-match.ts';

const PREFIX = 'sha256=';
const HUB_SIGNATURE = /^sha256=[0-9a-fA-F]{64}$/;

/** The full X-Hub-Signature-256 value for a body, as Meta sends it: `sha256=` and lowercase hex. */
export function signHubBody(secret: string | Uint8Array | KeyObject, rawBody: Uint8Array | string): string {
  return PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}

export const hubSignatureScheme: SignatureScheme = {
  verify({ headers, body, keys }) {
    const header = headers['x-hub-signature-256'];
    if (header === undefined) return { ok: false, reason: 'missing' };
    // A repeated header arrives joined with ", " (Node joins unknown headers), which the shape
    // check refuses: two signatures are not a signature.
    const value = typeof header === 'string' ? header.trim() : '';
    // The shape before decoding: Buffer.from(hex) silently skips what is not hex. Only `sha256=`
    // is accepted: the older SHA-1 `X-Hub-Signature` is not an alternative for this header.
    if (!HUB_SIGNATURE.test(value)) return { ok: false, reason: 'malformed' };
    const candidate = Buffer.from(value.slice(PREFIX.length), 'hex');
    return matchingKey(candidate, keys, (key) => createHmac('sha256', key).update(body).digest());
  },
};
