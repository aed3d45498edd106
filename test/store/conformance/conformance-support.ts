// What the conformance suites share: how a backend hands them a store, and small builders. A suite
// knows nothing but the contract (store.ts): each test opens a store of its own, empty, with a
// clock the test controls.
import type { TestContext } from 'node:test';
import type { InboundMessage } from '../../../src/model/message.ts';
import type { FeedPage, Store } from '../../../src/store/store.ts';

export type OpenedStore = { store: Store; cleanup?: () => Promise<void> };

/**
 * Opens an empty store for one test, using `now` as its clock, with room for 100 writes in its
 * queue and no retention; null when the backend is not available here (the opener has marked the
 * test skipped, or failed it when it must run).
 */
export type OpenStore = (t: TestContext, options: { now: () => Date }) => Promise<OpenedStore | null>;

export type Clock = { now: () => Date; advance(ms: number): void };

export function clock(start = Date.parse('2025-01-15T12:00:00Z')): Clock {
  let current = start;
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
  };
}

/** An empty store for this test, closed after it; null when skipped. */
export async function openFor(t: TestContext, open: OpenStore, now: () => Date = clock().now): Promise<Store | null> {
  const opened = await open(t, { now });
  if (opened === null) return null;
  t.after(async () => {
    await opened.store.lifecycle.close();
    await opened.cleanup?.();
  });
  return opened.store;
}

export function message(id: string, overrides: Partial<InboundMessage> = {}): InboundMessage {
  return { message_id: id, from: '+15550000001', to: '+15559999999', ts: '2025-01-15T10:00:00Z', text: `text of ${id}`, ...overrides };
}

/** A deadline no test read comes near. */
export const roomy = () => ({ deadline: Date.now() + 30_000 });

/**
 * Follows the feed from `after`, page by page of `limit`, until every id of `expected` has come,
 * and returns all it delivered with the last position. Delivery may lag (a backend may wait for
 * transactions still open elsewhere, even in another database of the server), never lose: so it
 * waits and asks again, up to a bound, while a page brings nothing new.
 */
export async function followUntil(
  store: Store, after: string, expected: readonly string[], options: { from?: string | null; limit?: number } = {},
): Promise<{ items: FeedPage['items']; position: string }> {
  const items: FeedPage['items'] = [];
  let position = after;
  const missing = () => expected.some((id) => !items.some((item) => item.message.message_id === id));
  for (let idle = 0; missing() && idle < 150; ) {
    const page = await store.reader.feed({ after: position, from: options.from ?? null, limit: options.limit ?? 100 }, roomy());
    items.push(...page.items);
    if (page.items.length === 0 && page.position === position) {
      idle++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    position = page.position;
  }
  return { items, position };
}

export const ids = (items: FeedPage['items']) => items.map((item) => item.message.message_id);
