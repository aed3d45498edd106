// The hand-written validator for webhook payloads. It returns results and never throws; issues
// follow FastAPI's shape ({ loc, msg, type }) because existing clients of this API parse them.

export type ValidationIssue = { loc: (string | number)[]; msg: string; type: string };
export type Validation<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

export type InboundMessage = {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
};

const MAX_TEXT_CHARACTERS = 4096;
/** Ids travel in cursors, Link headers and log lines: bounded so one message cannot bloat them. */
export const MAX_MESSAGE_ID_CHARACTERS = 256;
const MSISDN = /^\+\d{1,15}$/;
const MSISDN_PATTERN_TEXT = '^\\+\\d{1,15}$';
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

// fatal: bytes that are not UTF-8 are refused, never replaced with U+FFFD, which would let two
// different ids become one and change a text on the way in. ignoreBOM keeps a byte-order mark in
// the text, where neither JSON.parse nor a cursor's key accepts it.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, exactly; null when they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Parses the raw body as UTF-8 JSON. Bytes that are not UTF-8, or a syntax error, become a
 * FastAPI-style `json_invalid` issue.
 */
export function parseJson(raw: Uint8Array): Validation<unknown> {
  const text = decodeUtf8(raw);
  if (text !== null) {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      // A syntax error: the same issue as bytes that are not UTF-8.
    }
  }
  return { ok: false, issues: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] };
}

export function validateMessage(input: unknown): Validation<InboundMessage> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      issues: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object', type: 'model_attributes_type' }],
    };
  }
  const body = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const field = (name: string) => (Object.hasOwn(body, name) ? body[name] : undefined);

  const messageId = requiredString(field('message_id'), 'message_id', issues);
  if (messageId !== null && messageId.length === 0) {
    issues.push(issue('message_id', 'String should have at least 1 character', 'string_too_short'));
  } else if (messageId !== null && exceeds(messageId, MAX_MESSAGE_ID_CHARACTERS)) {
    issues.push(issue('message_id', `String should have at most ${MAX_MESSAGE_ID_CHARACTERS} characters`, 'string_too_long'));
  }
  for (const name of ['from', 'to'] as const) {
    const value = requiredString(field(name), name, issues);
    if (value !== null && !MSISDN.test(value)) {
      issues.push(issue(name, `String should match pattern '${MSISDN_PATTERN_TEXT}'`, 'string_pattern_mismatch'));
    }
  }
  const ts = requiredString(field('ts'), 'ts', issues);
  if (ts !== null && normalizeTimestamp(ts) === null) {
    issues.push(
      issue('ts', 'Value error, ts must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z', 'value_error'),
    );
  }
  const text = field('text');
  if (text !== undefined && text !== null) {
    if (typeof text !== 'string') {
      issues.push(issue('text', 'Input should be a valid string', 'string_type'));
    } else if (!text.isWellFormed()) {
      issues.push(notUnicode('text'));
    } else if (exceeds(text, MAX_TEXT_CHARACTERS)) {
      issues.push(issue('text', `String should have at most ${MAX_TEXT_CHARACTERS} characters`, 'string_too_long'));
    }
  }

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      message_id: messageId as string,
      from: field('from') as string,
      to: field('to') as string,
      ts: ts as string,
      text: typeof text === 'string' ? text : null,
    },
  };
}

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
function exceeds(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

function requiredString(value: unknown, name: string, issues: ValidationIssue[]): string | null {
  if (value === undefined) {
    issues.push(issue(name, 'Field required', 'missing'));
    return null;
  }
  if (typeof value !== 'string') {
    issues.push(issue(name, 'Input should be a valid string', 'string_type'));
    return null;
  }
  if (!value.isWellFormed()) {
    issues.push(notUnicode(name));
    return null;
  }
  return value;
}

// JSON may escape a lone surrogate (\ud800), which is not text: SQLite would store it as U+FFFD,
// so two different ids could collide and a text would change on the way in.
function notUnicode(name: string): ValidationIssue {
  return issue(name, 'Input should be a valid string, unable to parse raw data as a unicode string', 'string_unicode');
}

function issue(name: string, msg: string, type: string): ValidationIssue {
  return { loc: ['body', name], msg, type };
}
