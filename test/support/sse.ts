// A Server-Sent Events client for tests, parsing the stream as a browser's EventSource would: fields
// `id`, `event`, `data`, comments, and the last event id (which an id-only block moves too).
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Service } from './service.ts';

export type SseEvent = { id: string | null; event: string; data: string };

export type SseClient = {
  status: number;
  response: IncomingMessage;
  events: SseEvent[];
  comments: string[];
  /** The id a reconnect would send as Last-Event-ID. */
  lastEventId: () => string | null;
  /** Resolves once `count` events have come (or the stream has ended). */
  waitForEvents(count: number): Promise<SseEvent[]>;
  /** Resolves once the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
};

export function openStream(service: Pick<Service, 'url'>, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(`${service.url}${path}`, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let lastEventId: string | null = null;
      let pending = '';
      let block: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };
      const waiters: { count: number; resolve: () => void }[] = [];
      let finished = false;
      const wake = () => {
        for (const waiter of waiters.splice(0)) {
          if (events.length >= waiter.count || finished) waiter.resolve();
          else waiters.push(waiter);
        }
      };
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '') {
            // Dispatch: the id moves even when there is no data; an event needs data.
            if (block.id !== null) lastEventId = block.id;
            if (block.data.length > 0) events.push({ id: block.id, event: block.event, data: block.data.join('\n') });
            block = { id: null, event: 'message', data: [] };
          } else if (line.startsWith(':')) {
            comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(':');
            const [field, value] = colon === -1 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')];
            if (field === 'id') block.id = value;
            else if (field === 'event') block.event = value;
            else if (field === 'data') block.data.push(value);
          }
        }
        wake();
      });
      const ended = new Promise<void>((done) => {
        const finish = () => {
          finished = true;
          wake();
          done();
        };
        response.on('end', finish);
        response.on('close', finish);
      });
      resolve({
        status: response.statusCode ?? 0,
        response,
        events,
        comments,
        lastEventId: () => lastEventId,
        waitForEvents: (count) =>
          new Promise((done) => {
            if (events.length >= count || finished) return done(events);
            waiters.push({ count, resolve: () => done(events) });
          }),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
