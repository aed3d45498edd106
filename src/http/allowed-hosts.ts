// ALLOWED_HOSTS: the names this service is reached by. A request naming any other Host gets 421.
// This defends against DNS rebinding: a web page in the victim's browser re-points its own domain at
// this service's address and then reads /messages as its own origin, with whatever network access
// the browser has. The page cannot make the browser send this service's name as Host.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';
import type { Route } from './route.ts';

/** Whether the request's Host names one of `allowed` (lowercase; with or without a port). */
export function hostAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const host = req.headers.host?.toLowerCase();
  if (host === undefined) return false;
  if (allowed.includes(host)) return true;
  // The name without its port: `name:8000` or `[::1]:8000`.
  const withoutPort = /^(.+?)(?::\d{1,5})?$/.exec(host)?.[1];
  return withoutPort !== undefined && allowed.includes(withoutPort);
}

/** The route, answering 421 to a request for another Host; with no list, the route as it is. */
export function requireAllowedHost(route: Route, allowed: readonly string[] | null): Route {
  if (allowed === null) return route;
  return {
    ...route,
    doc: route.doc === undefined ? undefined : {
      ...route.doc,
      responses: { ...route.doc.responses, 421: { description: 'A Host not in ALLOWED_HOSTS.', schema: { $ref: '#/components/schemas/Error' } } },
    },
    handler: async (ctx) => {
      if (!hostAllowed(ctx.req, allowed)) throw new HttpError('misdirected_request');
      return route.handler(ctx);
    },
  };
}
