// What a route is, and what its handler is given and returns. Route modules import these types from
// here, and the app only assembles routes, so no route depends on the module that wires it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogFields } from '../observability/log.ts';
import type { ErrorCode } from './http-error.ts';

export type Reply = { status: number; headers?: Record<string, string> } & (
  | { body: unknown }
  /** A non-JSON answer, sent as is (the metrics exposition). */
  | { text: string; contentType: string }
  /** The handler wrote the answer itself, as it went (the message stream); it has ended. */
  | { streamed: true }
);

export type RequestContext = {
  req: IncomingMessage;
  /** For a handler that writes its answer as it goes (a stream); every other one returns a Reply. */
  res: ServerResponse;
  url: URL;
  requestId: string;
  /** The `{name}` segments of the route's path, as sent (still percent-encoded). */
  params: Readonly<Record<string, string>>;
  /** Extra fields for this request's log line, filled in by the handler (message_id, result, ...). */
  logFields: LogFields;
  /**
   * Invites the body of a client that sent `Expect: 100-continue` (a no-op for any other). A
   * handler calls it (through readBody) only once the request has passed every check that needs no
   * body, so a request refused anyway is never asked to upload first.
   */
  inviteBody: () => void;
};

export type Handler = (ctx: RequestContext) => Promise<Reply>;

/** How a matched request ended, for a route that records outcomes of its own. */
export type Answered = {
  ctx: RequestContext;
  status: number;
  /** The error table's code of the answer (internal_error for an unexpected failure); null on success. */
  errorCode: ErrorCode | null;
};

/** A JSON Schema (model/schemas.ts has the API's own). */
export type Schema = { readonly [key: string]: unknown };

export type ParameterDoc = { name: string; in: 'query' | 'path' | 'header'; required?: boolean; description: string; schema: Schema };

export type ResponseDoc = { description: string; schema?: Schema; contentType?: string; headers?: readonly string[] };

/**
 * What /openapi.json says of a route (http/openapi.ts). Written beside the handler, from the same
 * constants the handler checks against; the guards (bearer.ts, allowed-hosts.ts) add what they answer.
 */
export type RouteDoc = {
  summary: string;
  description?: string;
  tag: string;
  parameters?: readonly ParameterDoc[];
  requestBody?: { description: string; schema: Schema; contentType?: string };
  responses: Readonly<Record<number, ResponseDoc>>;
  /** The bearer token class the route asks for, set by requireBearer. */
  security?: string;
};

export type Route = {
  method: string;
  path: string;
  handler: Handler;
  doc?: RouteDoc;
  /**
   * Called once the request is answered and before its log line is written, with the answer
   * actually given (which may be the parser's, not the handler's): a route records its own
   * outcome here (a log field, a counter), so dispatch needs to know nothing about any route.
   */
  onAnswered?: (answered: Answered) => void;
};
