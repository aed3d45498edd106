// Every client-facing error the service can answer, in one table, and the one error class.
import type { ValidationIssue } from '../model/validation.ts';

/** On every answer, whoever writes it (dispatch.ts, client-error.ts): nothing is cached, nothing sniffed. */
export const ANSWER_HEADERS: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

type ErrorEntry = { status: number; detail: string; headers?: Readonly<Record<string, string>> };

export const ERRORS = {
  not_found: { status: 404, detail: 'not found' },
  method_not_allowed: { status: 405, detail: 'method not allowed' },
  invalid_signature: { status: 401, detail: 'invalid signature' },
  // A read or scrape without one of the configured bearer tokens (bearer.ts).
  unauthorized: { status: 401, detail: 'not authenticated' },
  forbidden: { status: 403, detail: 'forbidden' },
  // An erasure while ADMIN_TOKENS is unset (erasure/erasure-routes.ts).
  erasure_disabled: { status: 403, detail: 'erasure is disabled: ADMIN_TOKENS is not set' },
  // A Host not in ALLOWED_HOSTS (allowed-hosts.ts).
  misdirected_request: { status: 421, detail: 'misdirected request' },
  payload_too_large: { status: 413, detail: 'payload too large' },
  unsupported_media_type: { status: 415, detail: 'content type must be application/json' },
  body_incomplete: { status: 400, detail: 'request body incomplete' },
  validation_error: { status: 422, detail: 'validation error' },
  not_configured: { status: 503, detail: 'webhook secret not configured' },
  // The write was not confirmed (store.ts, UnavailableReason): a retry after Retry-After seconds is
  // safe, since a retry of a message already stored is a duplicate.
  unavailable: { status: 503, detail: 'service unavailable, retry later', headers: { 'Retry-After': '1' } },
  internal_error: { status: 500, detail: 'internal error' },
  // A request without a valid Host (HTTP/1.1), or Node's HTTP parser rejects it (client-error.ts).
  bad_request: { status: 400, detail: 'bad request' },
  // An Expect header asking for anything but 100-continue.
  expectation_failed: { status: 417, detail: 'expectation failed' },
  request_timeout: { status: 408, detail: 'request timeout' },
  headers_too_large: { status: 431, detail: 'request headers too large' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERRORS;

export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** FastAPI-style `detail`: a short sentence, or the list of validation issues for a 422. */
  readonly detail: string | readonly ValidationIssue[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: { issues?: readonly ValidationIssue[]; headers?: Record<string, string> } = {}) {
    const entry: ErrorEntry = ERRORS[code];
    super(entry.detail);
    this.name = 'HttpError';
    this.code = code;
    this.status = entry.status;
    this.detail = options.issues ?? entry.detail;
    this.headers = { ...entry.headers, ...options.headers };
  }
}
