// GET /messages: a page of stored messages, oldest instant first, with the exact count of all that
// match. The body keeps the four keys existing clients parse strictly; keyset pagination rides
// alongside in the Link header (RFC 8288), which those clients never need to read. A page holds at
// most `maxPageBytes` of messages: a larger one is cut short, and its Link says where it goes on.
import { HttpError } from '../http/http-error.ts';
import type { RequestContext, Route } from '../http/route.ts';
import { encodeCursor } from './cursor.ts';
import { ref } from '../model/schemas.ts';
import { MESSAGE_QUERY_PARAMETERS, nextPageQuery, parseMessageQuery } from './query.ts';
import type { BoundedReader } from './read-gate.ts';
import type { RefusalMapper } from './read-refusals.ts';

export type MessagesDeps = { reader: BoundedReader; refusals: RefusalMapper; maxPageBytes: number };

export function messageRoutes({ reader, refusals, maxPageBytes }: MessagesDeps): Route[] {
  async function list({ url, logFields }: RequestContext) {
    const parsed = parseMessageQuery(url.searchParams);
    if (!parsed.ok) throw new HttpError('validation_error', { issues: parsed.issues });
    const { limit, offset } = parsed.value;
    const page = await refusals(reader.listMessages({ ...parsed.value, maxBytes: maxPageBytes }), logFields);
    // A relative reference (resolved against the request URL): the Host header is client input
    // and is never echoed back.
    const headers: Record<string, string> =
      page.next === null ? {} : { Link: `</messages?${nextPageQuery(url.searchParams, encodeCursor(page.next))}>; rel="next"` };
    return { status: 200, body: { data: page.messages, total: page.total, limit, offset }, headers };
  }

  return [
    {
      method: 'GET',
      path: '/messages',
      handler: list,
      doc: {
        summary: 'A page of stored messages, oldest instant first, and the count of all that match',
        tag: 'read',
        parameters: MESSAGE_QUERY_PARAMETERS,
        responses: {
          200: { description: 'The page; a Link header names the next one, if any.', schema: ref('MessagePage'), headers: ['Link'] },
          422: { description: 'A parameter out of range or malformed, one entry per problem.', schema: ref('ValidationError') },
          503: { description: 'The read was refused (its deadline, too many reads, no room for its answer).', schema: ref('Error'), headers: ['Retry-After'] },
        },
      },
    },
  ];
}
