// The message model every part of the service shares: what a stored message is, the limits on its
// fields, and the sort key of its instant. Validation (ingest/validate.ts) enforces these limits on
// the way in; storage, cursors and read routes rely on them.

/** A message exactly as it is received, stored and listed: the five fields of the API. */
export type InboundMessage = {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
};

export const MAX_TEXT_CHARACTERS = 4096;
/** Ids travel in cursors, Link headers and log lines: bounded so one message cannot bloat them. */
export const MAX_MESSAGE_ID_CHARACTERS = 256;
/** E.164: a plus sign and at most fifteen digits. */
export const MSISDN = /^\+\d{1,15}$/;

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Checks an ISO-8601 UTC timestamp (`Z` suffix, optional fraction of up to 9 digits) names a real
 * instant, and returns a key that sorts as that instant does: seconds padded to nine fractional
 * digits, so `10:00:00.5Z` sorts after `10:00:00Z`, which plain text comparison gets wrong.
 */
export function normalizeTimestamp(text: string): string | null {
  const match = TIMESTAMP.exec(text);
  if (match === null) return null;
  const [, year, month, day, hour, minute, second, fraction = ''] = match;
  const y = Number(year), mo = Number(month), d = Number(day);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return null;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.padEnd(9, '0')}Z`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** Longer than `max` Unicode code points, as Python counts them: an emoji is one, not two. */
export function exceedsCodePoints(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}
