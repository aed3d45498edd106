// Conformance of listings: every filter combination against the reference (reference-listing.ts),
// cursor walks without gap or repeat, offsets, exact totals, and pages cut by their byte budget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../../src/model/message.ts';
import type { ListPosition, MessagePage, MessageQuery, Store } from '../../../src/store/store.ts';
import { message, openFor, roomy, type OpenStore } from './conformance-support.ts';
import { inListingOrder, query, referencePage } from './reference-listing.ts';

const S1 = '+15550000001';
const S2 = '+15550000002';
/** A prefix of the others: `from` is exact, not a prefix match. */
const S3 = '+1555000000';

/** Instants whose text order differs from their time order (10:00:00.5Z sorts before 10:00:00Z as text). */
const TIMES = ['2025-01-15T10:00:00Z', '2025-01-15T10:00:00.5Z', '2025-01-15T09:59:59.999999999Z', '2025-01-14T23:00:00Z', '2025-01-15T10:00:00.05Z'];

const TEXTS = [
  'Hello World', 'HELLO', 'hello', '100% sure', '100 percent', 'snake_case', 'snakeXcase', 'back\\slash', 'backslash',
  'Éclair', 'éclair', 'ÉCLAIR', null, 'straße', 'STRASSE', 'abc', 'xyzABCxyz', '', 'Ǆ ǅ ǆ', 'ελληνικά ΕΛΛΗΝΙΚΆ',
];

/**
 * Ids whose orders disagree: UTF-16 puts 😀 (U+1F600) before ｚ (U+FF5A), UTF-8 bytes put it after;
 * 'B' sorts before 'a'. Several share an instant, so the id decides.
 */
const IDS = ['a', 'B', 'é', '😀', 'ｚ', 'a-1', 'a_1', 'A1'];

function dataset(): InboundMessage[] {
  const messages: InboundMessage[] = [];
  for (let n = 0; n < 40; n++) {
    messages.push(message(`${IDS[n % IDS.length]}#${Math.floor(n / IDS.length)}`, {
      from: [S1, S2, S3][n % 3] as string,
      ts: TIMES[n % TIMES.length] as string,
      text: TEXTS[n % TEXTS.length] ?? null,
    }));
  }
  return messages;
}

const SEARCHES = [
  'hello', 'HELLO', 'o w', '%', '100%', '_', 'e_c', 'E_C', '\\', 'k\\s', 'éclair', 'ÉCLAIR', 'Éclair', '', 'ab', 'zzz', 'abc', 'ABC',
  'straße', 'STRASSE', 'ǆ', 'ελληνικά', 'a%c', 'ʜello',
];

async function seeded(store: Store): Promise<InboundMessage[]> {
  const stored = dataset();
  // Several calls, so the rows come from several batches.
  for (let start = 0; start < stored.length; start += 7) await store.sink.insertMany(stored.slice(start, start + 7));
  return stored;
}

async function assertMatchesReference(store: Store, stored: readonly InboundMessage[], q: MessageQuery): Promise<void> {
  const page = await store.reader.listMessages(q, roomy());
  assert.deepEqual(page, referencePage(stored, q), `listing ${JSON.stringify(q)}`);
}

export function listingConformance(open: OpenStore): void {
  test('every combination of from, since and q lists what the reference lists, with its exact total', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const stored = await seeded(store);
    for (const from of [null, S1, S3, '+19999999999']) {
      for (const sinceKey of [null, '2025-01-15T10:00:00.000000000Z', '2025-01-15T09:59:59.999999999Z']) {
        for (const q of [null, ...SEARCHES]) {
          await assertMatchesReference(store, stored, query({ from, sinceKey, q, limit: 7 }));
        }
      }
    }
  });

  test('limits and offsets page through the reference, and an offset past the end is an empty page with the total', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const stored = await seeded(store);
    for (const [limit, offset] of [[1, 0], [5, 3], [10, 35], [100, 0], [3, 39], [3, 40], [3, 1000]] as const) {
      await assertMatchesReference(store, stored, query({ limit, offset }));
      await assertMatchesReference(store, stored, query({ limit, offset, q: 'l' }));
    }
    const past = await store.reader.listMessages(query({ offset: 40 }), roomy());
    assert.deepEqual(past, { messages: [], total: 40, next: null });
  });

  test('a cursor walk visits every match once, in order, whatever the filter', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const stored = await seeded(store);
    for (const filters of [{}, { from: S2 }, { q: 'E' }, { sinceKey: '2025-01-15T10:00:00.000000000Z', q: 'l' }]) {
      const seen: InboundMessage[] = [];
      let after: ListPosition | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const q = query({ ...filters, limit: 3, after });
        const page: MessagePage = await store.reader.listMessages(q, roomy());
        assert.deepEqual(page, referencePage(stored, q));
        seen.push(...page.messages);
        after = page.next;
        if (after === null) break;
      }
      assert.deepEqual(seen, inListingOrder(stored.filter((candidate) => referencePage([candidate], query(filters)).total === 1)));
    }
  });

  test('a page over its byte budget holds fewer messages, at least one, and next continues right after it', async (t) => {
    const store = await openFor(t, open);
    if (store === null) return;
    const stored = Array.from({ length: 9 }, (_, n) => message(`big-${n}`, { text: 'x'.repeat(1000 + n) }));
    await store.sink.insertMany(stored);
    const seen: string[] = [];
    let after: ListPosition | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const q: MessageQuery = query({ limit: 5, after, maxBytes: 2500 });
      const page: MessagePage = await store.reader.listMessages(q, roomy());
      assert.deepEqual(page, referencePage(stored, q));
      assert.ok(page.messages.length === 2 || (page.messages.length === 1 && page.next === null), 'two messages of ~1.1 kB fit in 2,500 bytes');
      assert.equal(page.total, 9);
      seen.push(...page.messages.map((listed) => listed.message_id));
      after = page.next;
      if (after === null) break;
    }
    assert.deepEqual(seen, stored.map((listed) => listed.message_id));

    const tiny = await store.reader.listMessages(query({ maxBytes: 10 }), roomy());
    assert.deepEqual(tiny.messages.map((listed) => listed.message_id), ['big-0'], 'one message is listed even over the budget');
    assert.deepEqual(tiny.next, { tsKey: '2025-01-15T10:00:00.000000000Z', messageId: 'big-0' });
  });
}
