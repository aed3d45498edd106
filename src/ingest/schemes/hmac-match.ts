// The comparison every HMAC scheme ends with: which of the keys, if any, makes the signature sent.
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import type { SignatureVerdict } from '../signature-scheme.ts';

/**
 * Tries every key, in order, and returns the first whose digest equals `candidate`. Each comparison
 * runs in constant time: a byte-by-byte compare that stops early leaks how much of the digest an
 * attacker has guessed right.
 */
export function matchingKey(candidate: Uint8Array, keys: readonly KeyObject[], digest: (key: KeyObject) => Uint8Array): SignatureVerdict {
  for (const [keyIndex, key] of keys.entries()) {
    const expected = digest(key);
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { ok: true, keyIndex };
  }
  return { ok: false, reason: 'mismatch' };
}
