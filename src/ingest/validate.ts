// The hand-written validator for the flat message payload: JSON parsing and the checks of each field,
// against the limits of the message model. It returns results and never throws.
import { exceedsCodePoints, MAX_MESSAGE_ID_CHARACTERS, MAX_TEXT_CHARACTERS, MSISDN, normalizeTimestamp, type InboundMessage } from '../model/message.ts';
import { decodeUtf8 } from '../model/utf8.ts';
import type { Validation, ValidationIssue } from '../model/validation.ts';

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
  } else if (messageId !== null && exceedsCodePoints(messageId, MAX_MESSAGE_ID_CHARACTERS)) {
    issues.push(issue('message_id', `String should have at most ${MAX_MESSAGE_ID_CHARACTERS} characters`, 'string_too_long'));
  }
  for (const name of ['from', 'to'] as const) {
    const value = requiredString(field(name), name, issues);
    if (value !== null && !MSISDN.test(value)) {
      issues.push(issue(name, `String should match pattern '${MSISDN.source}'`, 'string_pattern_mismatch'));
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
    } else if (exceedsCodePoints(text, MAX_TEXT_CHARACTERS)) {
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
