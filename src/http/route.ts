// What a route is, and what its handler is given and returns. Route modules import these types from
// here, and the app only assembles routes, so no route depends on the module that wires it.
import type { IncomingMessage } from 'node:http';
import type { LogFields } from '../observability/log.ts';
import type { ErrorCode } from './http-error.ts';

export type Reply = { status: number; headers?: Record<string, string> } & (
  | { body: unknown }
  /** A non-JSON answer, sent as is (the metrics exposition). */
  | { text: string; contentType: string }
);

export type RequestContext = {
  req: IncomingMessage;
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

export type Route = {
  method: string;
  path: string;
  handler: Handler;
  /**
   * Called once the request is answered and before its log line is written, with the answer
   * actually given (which may be the parser's, not the handler's): a route records its own
   * outcome here (a log field, a counter), so dispatch needs to know nothing about any route.
   */
  onAnswered?: (answered: Answered) => void;
};
