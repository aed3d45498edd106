import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor } from '../../src/read/cursor.ts';

const KEY = '2025-01-15T10:00:00.500000000Z';

test('a cursor decodes to the position it was made from, whatever the message_id holds', () => {
  for (const messageId of ['m1', 'with space', 'नमस्ते 👋', 'a\nb', '>;rel="x"', 'x'.repeat(256), '👋'.repeat(256)]) {
    const cursor = encodeCursor({ tsKey: KEY, messageId });
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), { tsKey: KEY, messageId });
  }
});

test('decodeCursor refuses anything encodeCursor could not have produced', () => {
  const valid = encodeCursor({ tsKey: KEY, messageId: 'm1' });
  const refused: [string, string][] = [
    ['an empty string', ''],
    ['standard base64 characters', valid.slice(0, -2) + '+/'],
    ['padding', valid + '='],
    ['a non-canonical last character', valid.slice(0, -1) + String.fromCharCode(valid.charCodeAt(valid.length - 1) + 1)],
    ['a key without nine fractional digits', Buffer.from('2025-01-15T10:00:00Zm1').toString('base64url')],
    ['a key for an impossible date', Buffer.from('2025-02-30T10:00:00.000000000Zm1').toString('base64url')],
    ['a key and no message_id', Buffer.from(KEY).toString('base64url')],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from(KEY), Buffer.from([0xff, 0xfe])]).toString('base64url')],
    ['a message_id longer than any stored one', encodeCursor({ tsKey: KEY, messageId: 'x'.repeat(257) })],
    ['a byte-order mark before the key', Buffer.from('\ufeff' + KEY + 'm1').toString('base64url')],
  ];
  for (const [name, cursor] of refused) assert.equal(decodeCursor(cursor), null, name);
});
