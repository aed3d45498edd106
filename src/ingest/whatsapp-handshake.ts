// The subscription handshake Meta performs when a WhatsApp webhook URL is registered in the App
// Dashboard: `GET ?hub.mode=subscribe&hub.challenge=<int>&hub.verify_token=<the token set there>`,
// answered by echoing the challenge. Answering without checking the token would let anyone point
// their own Meta app at this service and have it confirm the subscription.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Meta documents hub.challenge as "an int you must pass back to us" (Graph API, Webhooks, Getting
 * Started: e.g. 1158201444). Digits only, so the echo can never carry markup or a header break;
 * 64 of them leaves ample room above any 64-bit integer. Kept as text: Number() would lose digits.
 */
const CHALLENGE = /^\d{1,64}$/;

export type SubscriptionVerdict = { ok: true; challenge: string } | { ok: false };

/**
 * Whether a verification request proves it knows one of `verifyTokens`, and the challenge to echo
 * if so. Each parameter must appear exactly once: with two values, which one a proxy or framework
 * would pick is anyone's guess. Empty configured tokens are ignored, so an unset token fails closed.
 */
export function verifySubscription(params: URLSearchParams, verifyTokens: readonly string[]): SubscriptionVerdict {
  const mode = single(params, 'hub.mode');
  const token = single(params, 'hub.verify_token');
  const challenge = single(params, 'hub.challenge');
  if (mode !== 'subscribe' || token === null || token === '' || challenge === null) return { ok: false };
  if (!CHALLENGE.test(challenge)) return { ok: false };
  // Compare digests, not the tokens: timingSafeEqual needs equal lengths, and comparing the tokens'
  // own lengths first would tell a prober how long the real token is.
  const offered = sha256(token);
  let matched = false;
  for (const expected of verifyTokens) {
    // No early exit: every configured token costs the same, whichever one matches.
    if (expected !== '' && timingSafeEqual(offered, sha256(expected))) matched = true;
  }
  return matched ? { ok: true, challenge } : { ok: false };
}

function single(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  return values.length === 1 ? (values[0] ?? null) : null;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
