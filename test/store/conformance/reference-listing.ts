// What a listing must answer, computed the slow and obvious way over every stored message: the
// reference a backend's listMessages is compared with. It follows the contract (store.ts) and
// SQLite's semantics: order by instant then message_id, both in UTF-8 byte order; `q` a literal
// substring with A-Z folded and nothing else; `total` ignores limit, offset and position; the page
// is cut by fitPage; `next` is the last message of the page when more exist or the budget cut it.
import { normalizeTimestamp, type InboundMessage } from '../../../src/model/message.ts';
import { fitPage } from '../../../src/store/page-fit.ts';
import type { ListPosition, MessagePage, MessageQuery } from '../../../src/store/store.ts';

export function query(overrides: Partial<MessageQuery> = {}): MessageQuery {
  return { limit: 50, offset: 0, from: null, sinceKey: null, q: null, after: null, maxBytes: 1_000_000, ...overrides };
}

const fold = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
const bytes = (text: string) => Buffer.from(text, 'utf8');

export function positionOf(message: InboundMessage): ListPosition {
  return { tsKey: normalizeTimestamp(message.ts) as string, messageId: message.message_id };
}

/** Negative, zero or positive as `a` comes before, with or after `b` in listing order. */
export function comparePositions(a: ListPosition, b: ListPosition): number {
  return Buffer.compare(bytes(a.tsKey), bytes(b.tsKey)) || Buffer.compare(bytes(a.messageId), bytes(b.messageId));
}

/** `messages` in listing order. */
export function inListingOrder(messages: readonly InboundMessage[]): InboundMessage[] {
  return [...messages].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));
}

export function matches(message: InboundMessage, q: MessageQuery): boolean {
  if (q.from !== null && message.from !== q.from) return false;
  if (q.sinceKey !== null && Buffer.compare(bytes(positionOf(message).tsKey), bytes(q.sinceKey)) < 0) return false;
  if (q.q !== null && (message.text === null || !fold(message.text).includes(fold(q.q)))) return false;
  return true;
}

export function referencePage(stored: readonly InboundMessage[], q: MessageQuery): MessagePage {
  const matching = inListingOrder(stored.filter((message) => matches(message, q)));
  const total = matching.length;
  if (q.offset >= total) return { messages: [], total, next: null };
  const after = q.after;
  const remaining = after === null ? matching : matching.filter((message) => comparePositions(positionOf(message), after) > 0);
  const page = remaining.slice(q.offset, q.offset + q.limit);
  const messages = [...fitPage(page, q.maxBytes)];
  const last = messages.at(-1);
  const more = remaining.length > q.offset + q.limit || messages.length < page.length;
  return { messages, total, next: more && last !== undefined ? positionOf(last) : null };
}
