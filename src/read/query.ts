// The query string of GET /messages: parsing it into a MessageQuery (FastAPI-style issues with loc
// ["query", name], never a throw) and writing the next page's query for the Link header.
// A parameter given twice counts once, with its last value, as FastAPI reads it; unknown
// parameters are ignored. A present parameter applies even when empty.
import { normalizeTimestamp } from '../model/message.ts';
import type { ParameterDoc } from '../http/route.ts';
import type { Validation, ValidationIssue } from '../model/validation.ts';
import type { MessageQuery } from '../store/store.ts';
import { decodeCursor } from './cursor.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

/** The parameters, as /openapi.json describes them: from the same limits the parser checks. */
export const MESSAGE_QUERY_PARAMETERS: readonly ParameterDoc[] = [
  { name: 'limit', in: 'query', description: 'At most this many messages.', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } },
  { name: 'offset', in: 'query', description: 'Skip this many matching messages first (a cursor costs less).', schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 } },
  { name: 'from', in: 'query', description: 'Exact sender; encode + as %2B.', schema: { type: 'string' } },
  { name: 'since', in: 'query', description: 'Only messages at or after this instant (ISO-8601 UTC, ending in Z).', schema: { type: 'string' } },
  { name: 'q', in: 'query', description: 'A literal substring of the text, case-insensitive for A to Z.', schema: { type: 'string' } },
  { name: 'cursor', in: 'query', description: 'Where the page starts: copied unchanged from a Link header.', schema: { type: 'string' } },
];

/** The parameters a next-page link carries over as sent; offset is replaced by the cursor. */
const CARRIED_OVER = ['limit', 'from', 'since', 'q'] as const;

export function parseMessageQuery(params: URLSearchParams): Validation<Omit<MessageQuery, 'maxBytes'>> {
  const issues: ValidationIssue[] = [];
  const limit = parseInteger(params, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT, issues);
  // Beyond 2^53 a number is no longer exact; no table holds that many rows anyway.
  const offset = parseInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER, issues);

  const since = lastValue(params, 'since');
  const sinceKey = since === null ? null : normalizeTimestamp(since);
  if (since !== null && sinceKey === null) {
    issues.push(
      issue('since', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z', 'value_error'),
    );
  }

  const cursor = lastValue(params, 'cursor');
  const after = cursor === null ? null : decodeCursor(cursor);
  if (cursor !== null && after === null) {
    issues.push(issue('cursor', 'Value error, cursor must be copied unchanged from a Link header of this API', 'value_error'));
  }
  // Two ways to say where a page starts would be ambiguous, and offset after a cursor would bring
  // back the cost a cursor exists to avoid.
  if (cursor !== null && offset !== null && offset > 0) {
    issues.push(issue('offset', 'Value error, offset cannot be combined with cursor; the cursor already says where the page starts', 'value_error'));
  }

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      limit: limit as number,
      offset: offset as number,
      from: lastValue(params, 'from'),
      sinceKey,
      q: lastValue(params, 'q'),
      after,
    },
  };
}

/** The query string of the next page: the same filters and limit as sent, starting at `cursor`. */
export function nextPageQuery(params: URLSearchParams, cursor: string): string {
  const next = new URLSearchParams();
  for (const name of CARRIED_OVER) {
    const value = lastValue(params, name);
    if (value !== null) next.set(name, value);
  }
  next.set('cursor', cursor);
  // URLSearchParams percent-encodes every delimiter (<, >, ;, ", CR, LF), so the value cannot
  // break out of the Link header's <...>.
  return next.toString();
}

function lastValue(params: URLSearchParams, name: string): string | null {
  return params.getAll(name).at(-1) ?? null;
}

function parseInteger(
  params: URLSearchParams, name: string, fallback: number, min: number, max: number, issues: ValidationIssue[],
): number | null {
  const text = lastValue(params, name);
  if (text === null) return fallback;
  if (!/^[+-]?\d+$/.test(text)) {
    issues.push(issue(name, 'Input should be a valid integer, unable to parse string as an integer', 'int_parsing'));
    return null;
  }
  const value = Number(text);
  if (value < min) {
    issues.push(issue(name, `Input should be greater than or equal to ${min}`, 'greater_than_equal'));
    return null;
  }
  if (value > max) {
    issues.push(issue(name, `Input should be less than or equal to ${max}`, 'less_than_equal'));
    return null;
  }
  return value;
}

function issue(name: string, msg: string, type: string): ValidationIssue {
  return { loc: ['query', name], msg, type };
}
