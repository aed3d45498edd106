// Webhook signature verification. Every scheme the service accepts is decided in verifyWebhook,
// so that later schemes (timestamped signatures, several secrets during rotation) plug in here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function signBody(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/**
 * True only when `X-Signature` is the HMAC-SHA256 of the exact raw body bytes under `secret`.
 * Never throws: a missing, repeated, malformed or wrong header is simply `false`.
 */
export function verifyWebhook(headers: IncomingHttpHeaders, rawBody: Buffer, secret: string): boolean {
  const header = headers['x-signature'];
  if (typeof header !== 'string') return false;
  return verifyHexSignature(header.trim(), rawBody, secret);
}

function verifyHexSignature(candidateHex: string, rawBody: Buffer, secret: string): boolean {
  // Check the shape before decoding: Buffer.from(hex) silently drops invalid characters.
  if (!SHA256_HEX.test(candidateHex)) return false;
  const candidate = Buffer.from(candidateHex, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  // Compare in constant time: a byte-by-byte compare that stops early leaks how much of the
  // digest an attacker has guessed right.
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
