// The PostgreSQL store's pure parts, without a server: feed positions, batch planning and answers,
// LIKE escaping and ASCII folding, and the listing SQL (values bound, never in the text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFeedPosition, encodeFeedPosition } from '../../../src/store/postgres/feed-position.ts';
import { batchResults, planBatch, type WriteRequest } from '../../../src/store/postgres/message-batch.ts';
import { escapeLike, foldAscii, listingSql } from '../../../src/store/postgres/message-listing.ts';
import { message } from '../conformance/conformance-support.ts';
import { query } from '../conformance/reference-listing.ts';

const request = (id: string): WriteRequest => ({ message: message(id), createdAt: '2025-01-15T10:00:00.000Z' });

test('a feed position decodes to exactly what was encoded, the horizon form included', () => {
  for (const position of [{ txid: '0', messageId: '' }, { txid: '748', messageId: 'e' }, { txid: '18446744073709551615', messageId: 'ü:😀:' }]) {
    assert.deepEqual(decodeFeedPosition(encodeFeedPosition(position)), position);
  }
});

test('anything encodeFeedPosition could not have produced is refused', () => {
  const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const foreign = [
    '', '!!!!', 'cGcxOjc0ODpl=', 'cGcxOjc0ODpl ', encode('pg2:1:a'), encode('pg1:01:a'), encode('pg1:-1:a'), encode('pg1:1'),
    encode('pg1:18446744073709551616:a'), encode('pg1:1:a\0b'), encode(`pg1:1:${'x'.repeat(257)}`), encode('2025-01-15T10:00:00.000000000Za'),
    Buffer.from([0x70, 0x67, 0x31, 0x3a, 0x31, 0x3a, 0xff]).toString('base64url'),
  ];
  for (const token of foreign) assert.equal(decodeFeedPosition(token), null, JSON.stringify(token));
});

test('a batch is planned once per id, sorted by UTF-8 bytes, remembering which request came first', () => {
  const requests = ['ｚ', 'b', '😀', 'B', 'b', 'a'].map(request);
  const plan = planBatch(requests);
  // UTF-16 would put 😀 (D83D) before ｚ (FF5A); as UTF-8 bytes it comes after.
  assert.deepEqual(plan.unique.map((planned) => planned.message.message_id), ['B', 'a', 'b', 'ｚ', '😀']);
  assert.deepEqual(plan.first, [true, true, true, true, false, true]);
});

test('each request is answered from the insert rows: created once, erased for every repeat, else duplicate', () => {
  const requests = ['new', 'old', 'gone', 'new', 'gone'].map(request);
  const plan = planBatch(requests);
  const rows = [['created', 'new'], ['erased', 'gone']];
  const results = batchResults(requests, plan, { columns: ['result', 'message_id'], rows, command: 'SELECT', rowCount: 2 });
  assert.deepEqual(results, ['created', 'duplicate', 'erased', 'duplicate', 'erased']);
});

test('LIKE escaping makes %, _ and the backslash literal; folding touches A-Z only', () => {
  assert.equal(escapeLike('100%_a\\b'), '100\\%\\_a\\\\b');
  assert.equal(foldAscii('ÀBC É straße ǅ Z'), 'Àbc É straße ǅ z');
});

test('listing SQL binds every value and never carries one in its text', () => {
  const secret = "x'; DROP TABLE messages; --";
  const sql = listingSql(query({ from: secret, q: secret, sinceKey: '2025-01-15T10:00:00.000000000Z', after: { tsKey: '2025-01-15T10:00:00.000000000Z', messageId: `${secret}\0tail` }, limit: 5, offset: 2 }));
  assert.ok(!sql.count.includes(secret) && !sql.page.includes(secret));
  assert.deepEqual(sql.countParams, [secret, '2025-01-15T10:00:00.000000000Z', `%${escapeLike(secret)}%`, foldAscii(secret)]);
  assert.deepEqual(sql.pageParams.slice(4), ['2025-01-15T10:00:00.000000000Z', secret, '6', '2'], 'the id up to its U+0000; one row more than the limit');
});

test('a total without since or q is read from the counters', () => {
  assert.match(listingSql(query()).count, /FROM message_totals/);
  assert.match(listingSql(query({ from: '+1' })).count, /FROM sender_counts/);
  assert.match(listingSql(query({ q: 'a' })).count, /count\(\*\) FROM messages/);
  assert.doesNotMatch(listingSql(query({ q: 'ab' })).count, /ILIKE/, 'under three characters no trigram can narrow the search');
});
