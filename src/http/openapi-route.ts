// GET /openapi.json: the OpenAPI 3.1 document of the routes this listener serves (openapi.ts). It
// describes the API, never data, so it needs no token: a client generator or a reviewer can fetch it
// as the service is deployed, its guards (tokens, hosts) included.
import { openApiDocument, type ApiInfo } from './openapi.ts';
import type { Route } from './route.ts';

export function openApiRoute(routes: () => readonly Route[], info: ApiInfo): Route {
  let document: string | null = null;
  return {
    method: 'GET',
    path: '/openapi.json',
    // Built once, on first request, from the final route table (this route included).
    handler: async () => ({ status: 200, text: (document ??= JSON.stringify(openApiDocument(routes(), info))), contentType: 'application/json' }),
    doc: {
      summary: 'This document',
      tag: 'meta',
      responses: { 200: { description: 'The OpenAPI 3.1 document of this listener.', schema: { type: 'object', required: ['openapi', 'paths'] } } },
    },
  };
}
