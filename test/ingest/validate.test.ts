import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeTimestamp } from '../../src/model/message.ts';
import { parseJson, validateMessage } from '../../src/ingest/validate.ts';

const valid = { message_id: 'm1', from: '+1', to: '+123456789012345', ts: '2025-01-15T10:00:00Z' };

test('validateMessage returns the message with text defaulting to null', () => {
  assert.deepEqual(validateMessage(valid), { ok: true, value: { ...valid, text: null } });
});

test('validateMessage reads only own properties: an inherited key is missing', () => {
  const inherited = Object.create({ message_id: 'm1' });
  Object.assign(inherited, { from: '+1', to: '+1', ts: '2025-01-15T10:00:00Z' });
  const result = validateMessage(inherited);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.issues.map((i) => i.loc), [['body', 'message_id']]);
});

test('validateMessage does not echo the rejected input back in its issues', () => {
  const result = validateMessage({ ...valid, from: '+91 secret-looking-value' });
  assert.equal(result.ok, false);
  assert.ok(!JSON.stringify(result).includes('secret-looking-value'));
});

test('validateMessage rejects non-object bodies at loc ["body"]', () => {
  for (const body of [null, 1, 'text', [], true]) {
    const result = validateMessage(body);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.issues, [{ loc: ['body'], msg: 'Input should be a valid dictionary or object', type: 'model_attributes_type' }]);
  }
});

test('parseJson reports a syntax error or bytes that are not UTF-8 as json_invalid, and never throws', () => {
  const invalid = { ok: false, issues: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] };
  assert.deepEqual(parseJson(Buffer.from('{')), invalid);
  assert.deepEqual(parseJson(Buffer.from('{"a":1}')), { ok: true, value: { a: 1 } });
  assert.deepEqual(parseJson(Buffer.from('{"a":"caf\u00e9 ✓"}')), { ok: true, value: { a: 'café ✓' } });
  // Not UTF-8 (a stray byte, an encoded surrogate), and a byte-order mark: refused, never repaired.
  assert.deepEqual(parseJson(Buffer.from([0x22, 0xff, 0x22])), invalid);
  assert.deepEqual(parseJson(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), invalid);
  assert.deepEqual(parseJson(Buffer.from('\ufeff{}')), invalid);
});

test('normalizeTimestamp accepts real UTC instants and yields keys that sort as instants', () => {
  const keys = ['2025-01-15T10:00:00.5Z', '2025-01-15T10:00:00Z', '2025-01-15T10:00:00.123456789Z'].map(normalizeTimestamp);
  assert.deepEqual(keys, ['2025-01-15T10:00:00.500000000Z', '2025-01-15T10:00:00.000000000Z', '2025-01-15T10:00:00.123456789Z']);
  assert.deepEqual([...keys].sort(), [keys[1], keys[2], keys[0]]);
});

test('normalizeTimestamp rejects impossible dates, offsets and other shapes', () => {
  const bad = ['2025-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2025-13-01T00:00:00Z',
    '2025-00-10T00:00:00Z', '2025-01-15T10:60:00Z', '2025-01-15T10:00:60Z', '2025-01-15T10:00:00',
    '2025-01-15T10:00:00+01:00', '2025-01-15 10:00:00Z', '2025-01-15T10:00:00.Z', '2025-01-15T10:00:00.1234567890Z', ' 2025-01-15T10:00:00Z'];
  for (const text of bad) assert.equal(normalizeTimestamp(text), null, text);
  assert.notEqual(normalizeTimestamp('2000-02-29T00:00:00Z'), null);
});
