// GET /messages/stream: Server-Sent Events of the messages stored from now on, in storage order. Each
// event's `id` is the store's feed position after it: a consumer that reconnects with
// `Last-Event-ID` (or `?after=`) gets every message stored since, none twice, none missing, across
// restarts and replicas (store.ts, MessageReader.feed). `from` and `q` narrow the stream exactly as
// they narrow /messages. A comment every STREAM_HEARTBEAT_S keeps proxies and the idle timeout from
// cutting a quiet stream.
//
// Bounds: at most MAX_STREAMS subscribers; a subscriber whose unsent events pass STREAM_BUFFER_BYTES
// (it reads too slowly) gets a final `event: error` saying so, and is closed; it resumes from its
// last id. A subscriber only ever reads the feed, after commits, so it never slows ingestion.
import { ANSWER_HEADERS, HttpError } from '../http/http-error.ts';
import type { RequestContext, Route } from '../http/route.ts';
import { exceedsCodePoints } from '../model/message.ts';
import { textMatches } from '../model/text-match.ts';
import { ref } from '../model/schemas.ts';
import type { ValidationIssue } from '../model/validation.ts';
import type { Metrics } from '../observability/metrics.ts';
import { FeedPositionError, ReadUnavailableError } from '../store/store.ts';
import { PAGE_LIMIT, type SharedPage, type StreamHub } from './stream-hub.ts';
import { sseComment, sseEvent, ssePosition } from './sse.ts';

export type StreamLimits = { maxStreams: number; bufferBytes: number; heartbeatMs: number };

/** A position is the feed's opaque token: base64url, bounded. */
const POSITION = /^[A-Za-z0-9_-]{1,512}$/;
const MAX_FILTER_CHARACTERS = 256;
/** After a read the store refused (its deadline, the database away), the next try comes this much later. */
const RETRY_AFTER_REFUSAL_MS = 1_000;

type Filter = { from: string | null; q: string | null };
type Ending = 'client_closed' | 'slow_consumer' | 'shutdown';

export function streamRoutes({ hub, limits, metrics }: { hub: StreamHub; limits: StreamLimits; metrics: Metrics }): Route[] {
  let open = 0;
  metrics.gauge({ name: 'stream_subscribers', help: 'Open GET /messages/stream connections.', collect: (gauge) => gauge.set({}, open) });
  const events = metrics.counter({ name: 'stream_events_total', help: 'Message events written to stream subscribers.' });
  events.inc({}, 0);
  const closed = metrics.counter({ name: 'streams_closed_total', help: 'Streams ended, by why.', labelNames: ['reason'] });
  for (const reason of ['client_closed', 'slow_consumer', 'shutdown']) closed.inc({ reason }, 0);

  async function stream(ctx: RequestContext) {
    const { req, res, url, logFields } = ctx;
    const filter = parseFilter(url.searchParams);
    const resumeFrom = resumePosition(req.headers['last-event-id'], url.searchParams);
    if (hub.stopped() || open >= limits.maxStreams) {
      logFields.reason = hub.stopped() ? 'shutting_down' : 'stream_limit';
      throw new HttpError('unavailable');
    }
    // The first read, before any byte is sent: a position this store never gave is a 422, and a
    // store that cannot answer a 503, both as JSON.
    const first = await firstPage(hub, resumeFrom);
    open++;
    hub.subscribed(1);
    // The body ends when the connection closes (RFC 9112, 6.3), as a stream only ever does: no
    // chunk framing, so each write is one buffer handed to the socket as it is.
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      ...ANSWER_HEADERS,
      // A proxy that buffers would hold events back until it had enough.
      'X-Accel-Buffering': 'no',
      Connection: 'close',
    });
    // How soon a browser's EventSource reconnects; a new subscriber also learns where it started.
    res.write(resumeFrom === null ? `retry: 1000\n${ssePosition(first.position)}` : 'retry: 1000\n\n');

    let written = 0;
    let counted = 0;
    let ending: Ending | null = null;
    const end = (why: Ending) => {
      ending ??= why;
    };
    // A client that closed its side is gone: an event-stream client sends nothing after its
    // request, and the server keeps half-open sockets (http-server.ts), so without this the slot
    // would be held until a heartbeat failed. It wakes the subscriber if it waits.
    let wake: (() => void) | null = null;
    const leave = () => {
      end('client_closed');
      wake?.();
    };
    res.once('close', leave);
    req.socket.once('end', leave);
    const heartbeat = setInterval(() => res.write(sseComment('keep-alive')), limits.heartbeatMs);

    // A page goes out in one write: a hundred subscribers, a write each per commit. Without a
    // filter, the page's own encoding is written, the same bytes for every subscriber.
    const deliver = (page: SharedPage): void => {
      if (filter.from === null && filter.q === null) {
        if (page.items.length > 0) res.write(page.unfiltered());
        written += page.items.length;
      } else {
        let chunk = '';
        let last: string | null = null;
        for (const { position, message, json } of page.items) {
          if ((filter.from !== null && message.from !== filter.from) || (filter.q !== null && !textMatches(message.text, filter.q))) continue;
          chunk += sseEvent(position, json);
          last = position;
          written++;
        }
        // Past what the filter skipped, so a reconnect need not read it again.
        if (page.items.length > 0 && last !== page.position) chunk += ssePosition(page.position);
        if (chunk !== '') res.write(chunk);
      }
      events.inc({}, written - counted);
      counted = written;
      if (res.writableLength > limits.bufferBytes) end('slow_consumer');
    };
    // Until the hub's version passes `seen` (at once if it has), or the client leaves.
    const changedSince = (seen: number) =>
      new Promise<void>((resolve) => {
        wake = resolve;
        void hub.changed(seen).then(resolve);
      });

    try {
      if (resumeFrom !== null) deliver(first);
      let position = first.position;
      // A page that was full, or whose read started before the latest signal, is followed at once.
      let seen = first.version;
      let full = first.items.length === PAGE_LIMIT;
      while (ending === null) {
        if (!full) await changedSince(seen);
        wake = null;
        if (hub.stopped()) end('shutdown');
        if (ending !== null) break;
        const page = await hub.read(position).catch(async (error: unknown) => {
          if (!(error instanceof ReadUnavailableError)) throw error;
          await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_REFUSAL_MS).unref());
          return null;
        });
        if (page === null || ending !== null) continue;
        deliver(page);
        position = page.position;
        seen = page.version;
        full = page.items.length === PAGE_LIMIT;
      }
    } finally {
      clearInterval(heartbeat);
      open--;
      hub.subscribed(-1);
    }
    const why = ending ?? 'client_closed';
    if (why === 'slow_consumer') res.write(sseEvent(null, JSON.stringify({ detail: 'too slow: events were not read fast enough; reconnect with Last-Event-ID' }), 'error'));
    res.end();
    closed.inc({ reason: why });
    Object.assign(logFields, { events: written, ended: why });
    return { status: 200, streamed: true as const };
  }

  return [
    {
      method: 'GET',
      path: '/messages/stream',
      handler: stream,
      doc: {
        summary: 'Server-Sent Events of the messages stored from now on (or since Last-Event-ID)',
        description: 'Each event: id, a resumable position; data, the message as /messages shows it. Order: storage order. Comments keep the stream alive.',
        tag: 'read',
        parameters: [
          { name: 'from', in: 'query', description: 'Exact sender, as in /messages.', schema: { type: 'string', maxLength: MAX_FILTER_CHARACTERS } },
          { name: 'q', in: 'query', description: 'A literal substring of the text, as in /messages.', schema: { type: 'string', maxLength: MAX_FILTER_CHARACTERS } },
          { name: 'after', in: 'query', description: 'Resume after this event id (Last-Event-ID wins).', schema: { type: 'string', pattern: POSITION.source } },
          { name: 'Last-Event-ID', in: 'header', description: 'Resume after this event id, as EventSource sends it.', schema: { type: 'string', pattern: POSITION.source } },
        ],
        responses: {
          200: { description: 'The event stream; an `error` event before the end when the consumer read too slowly.', schema: { type: 'string' }, contentType: 'text/event-stream' },
          422: { description: 'An event id this stream never sent, or a filter too long.', schema: ref('ValidationError') },
          503: { description: 'MAX_STREAMS are open, the service is stopping, or the store did not answer.', schema: ref('Error'), headers: ['Retry-After'] },
        },
      },
    },
  ];
}

async function firstPage(hub: StreamHub, after: string | null): Promise<SharedPage> {
  try {
    return await hub.read(after);
  } catch (error) {
    if (error instanceof FeedPositionError) {
      throw new HttpError('validation_error', { issues: [positionIssue()] });
    }
    if (error instanceof ReadUnavailableError) throw new HttpError('unavailable');
    throw error;
  }
}

function parseFilter(params: URLSearchParams): Filter {
  const issues: ValidationIssue[] = [];
  const read = (name: 'from' | 'q') => {
    const value = params.getAll(name).at(-1) ?? null;
    if (value !== null && exceedsCodePoints(value, MAX_FILTER_CHARACTERS)) {
      issues.push({ loc: ['query', name], msg: `String should have at most ${MAX_FILTER_CHARACTERS} characters`, type: 'string_too_long' });
    }
    return value;
  };
  const filter = { from: read('from'), q: read('q') };
  if (issues.length > 0) throw new HttpError('validation_error', { issues });
  return filter;
}

/** Where to resume: Last-Event-ID, as EventSource sends it, else ?after=; null starts from now. */
function resumePosition(header: string | string[] | undefined, params: URLSearchParams): string | null {
  const position = typeof header === 'string' && header !== '' ? header : (params.getAll('after').at(-1) ?? null);
  if (position !== null && !POSITION.test(position)) throw new HttpError('validation_error', { issues: [positionIssue()] });
  return position;
}

function positionIssue(): ValidationIssue {
  return { loc: ['query', 'after'], msg: 'Value error, after (or Last-Event-ID) must be an event id this stream sent', type: 'value_error' };
}
