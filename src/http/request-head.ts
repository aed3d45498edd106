// Checks of the request head that every route shares, made before routing: the Host header and the
// Expect header. Node's own versions of both answer with bare texts of their own, without JSON,
// request id or log line, so they are turned off (http-server.ts) and done here.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';

/** HTTP/1.1 requires exactly one Host header (RFC 9112, 3.2). The value plays no part in routing. */
export function assertHost(req: IncomingMessage): void {
  // headersDistinct keeps every Host line; req.headers keeps only the first.
  if (req.httpVersion === '1.1' && req.headersDistinct.host?.length !== 1) throw new HttpError('bad_request');
}

/**
 * 100-continue is the only expectation HTTP defines. Every request with an Expect header comes here
 * (http-server.ts routes Node's 'checkContinue' and 'checkExpectation' to the app): any other
 * expectation, alone or in a list, is a 417 before anything else. True when the client waits for
 * `100 Continue` before its body; ctx.inviteBody sends it once a handler is about to read the body,
 * so a request refused without its body (404, 413, 415, ...) gets that answer instead.
 */
export function awaitsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  if (expect === undefined) return false;
  const expectations = expect.split(',').map((item) => item.trim().toLowerCase());
  if (!expectations.every((item) => item === '100-continue')) throw new HttpError('expectation_failed');
  // An HTTP/1.0 client does not know interim answers: it would take the 100 as the final one, so
  // the expectation is ignored there (RFC 9110, 10.1.1).
  return req.httpVersion !== '1.0';
}

/** Whether the request announced a body (of any length but zero). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
