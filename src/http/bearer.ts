// Bearer tokens (RFC 6750) for the routes that hand out data. Several tokens may be valid at once,
// so one can be rotated without a window of refusals. A presented token is hashed and compared with
// each configured token's hash in constant time: comparing the tokens themselves would leak, through
// timing, how much of one a guess got right, and comparing lengths first would leak its length.
// A token never appears in an answer or a log line.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';
import type { Route } from './route.ts';

/** RFC 6750's token68 form, bounded: anything else in the header cannot be a token we issued. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]{1,1024}=*) *$/i;

export type BearerVerdict = 'ok' | 'missing' | 'invalid';

export function createBearerCheck(tokens: readonly string[]): (req: IncomingMessage) => BearerVerdict {
  const digests = tokens.map(sha256);
  return (req) => {
    const headers = req.headersDistinct.authorization;
    if (headers === undefined) return 'missing';
    const match = headers.length === 1 ? BEARER.exec(headers[0] as string) : null;
    if (match === null) return 'invalid';
    const presented = sha256(match[1] as string);
    let valid = false;
    for (const digest of digests) valid = timingSafeEqual(presented, digest) || valid;
    return valid ? 'ok' : 'invalid';
  };
}

/**
 * The route, answering 401 with `WWW-Authenticate: Bearer` unless the request carries one of the
 * tokens; with no tokens configured, the route as it is (open).
 */
export function requireBearer(route: Route, tokens: readonly string[], scheme: string): Route {
  if (tokens.length === 0) return route;
  const check = createBearerCheck(tokens);
  return {
    ...route,
    doc: route.doc === undefined ? undefined : {
      ...route.doc,
      security: scheme,
      responses: { ...route.doc.responses, 401: { description: 'No valid bearer token.', schema: { $ref: '#/components/schemas/Error' }, headers: ['WWW-Authenticate'] } },
    },
    handler: async (ctx) => {
      const verdict = check(ctx.req);
      if (verdict !== 'ok') {
        ctx.logFields.auth = verdict;
        // RFC 6750 3.1: no error code when no credentials were sent, invalid_token otherwise.
        const challenge = verdict === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
        throw new HttpError('unauthorized', { headers: { 'WWW-Authenticate': challenge } });
      }
      return route.handler(ctx);
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
