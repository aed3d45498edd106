// The service's own scheme: `X-Signature` holds the hex HMAC-SHA256 of the exact raw body bytes.
import { createHmac } from 'node:crypto';
import type { SignatureScheme } from '../signature-scheme.ts';
import { matchingKey } from './hmac-match.ts';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** The hex signature of a body; what a sender puts in X-Signature. */
export function signBody(secret: string | Uint8Array, rawBody: Uint8Array | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

export const xSignatureScheme: SignatureScheme = {
  verify({ headers, body, keys }) {
    const header = headers['x-signature'];
    if (header === undefined) return { ok: false, reason: 'missing' };
    // A repeated header arrives as one joined string (Node joins unknown headers with ", "), which
    // the shape check below refuses.
    const candidateHex = typeof header === 'string' ? header.trim() : '';
    // Check the shape before decoding: Buffer.from(hex) silently drops invalid characters.
    if (!SHA256_HEX.test(candidateHex)) return { ok: false, reason: 'malformed' };
    return matchingKey(Buffer.from(candidateHex, 'hex'), keys, (key) => createHmac('sha256', key).update(body).digest());
  },
};
