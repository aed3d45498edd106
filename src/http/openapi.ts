// The OpenAPI 3.1 document of the API, generated from the route table: every route's own doc
// (RouteDoc, written beside its handler from the constants the handler checks), what the guards
// added (401, 421), and what the dispatcher may answer on any route (400, 417, 500). Nothing here is
// a hand-kept copy of the API: a route is in the document because it is in the table.
import { SCHEMAS, ref, type JsonSchema } from '../model/schemas.ts';
import type { ResponseDoc, Route, RouteDoc } from './route.ts';

export const OPENAPI_VERSION = '3.1.0';

/** What the dispatcher answers before or around any route's handler (dispatch.ts, request-head.ts). */
const ANY_ROUTE: Readonly<Record<number, ResponseDoc>> = {
  400: { description: 'A malformed request: no single Host (HTTP/1.1), a fragment in the target, or a body that ended early.', schema: ref('Error') },
  417: { description: 'An Expect header asking for anything but 100-continue.', schema: ref('Error') },
  500: { description: 'An unexpected failure; its request id is in the log, its details never in the answer.', schema: ref('Error') },
};

const HEADER_DOCS: Readonly<Record<string, { description: string; schema: JsonSchema }>> = {
  'Retry-After': { description: 'Seconds to wait before retrying; a retry is always safe.', schema: { type: 'integer' } },
  Link: { description: 'The next page (RFC 8288, rel="next"): the same filters, from a keyset cursor.', schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'Bearer, with error="invalid_token" when a token was sent.', schema: { type: 'string' } },
  Allow: { description: 'The methods the path accepts.', schema: { type: 'string' } },
};

export type ApiInfo = { title: string; version: string; description: string };

export function openApiDocument(routes: readonly Route[], info: ApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.doc === undefined) continue;
    const operations = (paths[route.path] ??= {});
    operations[route.method.toLowerCase()] = operation(route, route.doc);
  }
  return {
    openapi: OPENAPI_VERSION,
    info,
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        read: { type: 'http', scheme: 'bearer', description: 'One of READ_TOKENS (when set).' },
        metrics: { type: 'http', scheme: 'bearer', description: 'One of METRICS_TOKEN (when set).' },
        admin: { type: 'http', scheme: 'bearer', description: 'One of ADMIN_TOKENS.' },
      },
    },
  };
}

function operation(route: Route, doc: RouteDoc): Record<string, unknown> {
  const responses = { ...ANY_ROUTE, ...doc.responses };
  return {
    operationId: operationId(route),
    summary: doc.summary,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    tags: [doc.tag],
    parameters: (doc.parameters ?? []).map((parameter) => ({ ...parameter, required: parameter.in === 'path' ? true : (parameter.required ?? false) })),
    ...(doc.requestBody === undefined
      ? {}
      : { requestBody: { required: true, description: doc.requestBody.description, content: { [doc.requestBody.contentType ?? 'application/json']: { schema: doc.requestBody.schema } } } }),
    responses: Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, responseObject(response)])),
    ...(doc.security === undefined ? {} : { security: [{ [doc.security]: [] }] }),
  };
}

function responseObject({ description, schema, contentType = 'application/json', headers = [] }: ResponseDoc): Record<string, unknown> {
  return {
    description,
    ...(schema === undefined ? {} : { content: { [contentType]: { schema } } }),
    ...(headers.length === 0 ? {} : { headers: Object.fromEntries(headers.map((name) => [name, HEADER_DOCS[name] ?? { schema: { type: 'string' } }])) }),
  };
}

function operationId(route: Route): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  return [route.method.toLowerCase(), ...words.map((word) => word.charAt(0).toUpperCase() + word.slice(1))].join('');
}
