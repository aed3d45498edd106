// Every client-facing error the service can answer, in one table, and the one error class.
import type { ValidationIssue } from './validate.ts';

export const ERRORS = {
  not_found: { status: 404, detail: 'not found' },
  method_not_allowed: { status: 405, detail: 'method not allowed' },
  invalid_signature: { status: 401, detail: 'invalid signature' },
  payload_too_large: { status: 413, detail: 'payload too large' },
  unsupported_media_type: { status: 415, detail: 'content type must be application/json' },
  body_incomplete: { status: 400, detail: 'request body incomplete' },
  validation_error: { status: 422, detail: 'validation error' },
  not_configured: { status: 503, detail: 'webhook secret not configured' },
  unavailable: { status: 503, detail: 'service unavailable, retry later' },
  internal_error: { status: 500, detail: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** FastAPI-style `detail`: a short sentence, or the list of validation issues for a 422. */
  readonly detail: string | readonly ValidationIssue[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: { issues?: readonly ValidationIssue[]; headers?: Record<string, string> } = {}) {
    super(ERRORS[code].detail);
    this.name = 'HttpError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = options.issues ?? ERRORS[code].detail;
    this.headers = options.headers ?? {};
  }
}
