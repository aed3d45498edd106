import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bind, cancelRequest, describePortal, execute, extendedQuery, parse, passwordMessage, saslInitialResponse, sslRequest, startupMessage, sync, terminate } from '../../../src/store/postgres/wire/frontend.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';

const hex = (buffer: Buffer) => buffer.toString('hex');

test('SSLRequest and CancelRequest are the fixed 8 and 16 byte packets', () => {
  assert.equal(hex(sslRequest()), '0000000804d2162f');
  assert.equal(hex(cancelRequest(1234, -2)), '0000001004d2162e000004d2fffffffe');
});

test('the startup message carries protocol 3.0 and NUL-terminated pairs, then a final NUL', () => {
  const message = startupMessage([['user', 'u'], ['database', 'd']]);
  assert.equal(hex(message), '0000001b' + '00030000' + hex(Buffer.from('user\0u\0database\0d\0\0')));
  assert.equal(message.readInt32BE(0), message.length);
});

test('Parse, Bind, Describe, Execute and Sync use the unnamed statement and portal, text everywhere', () => {
  assert.equal(hex(parse('SELECT 1')), hex(Buffer.from('P\0\0\0\x10\0SELECT 1\0\0\0', 'latin1')));
  // portal "", statement "", 0 format codes (all text), 2 params: "é" as 2 UTF-8 bytes, null as -1, 0 result formats.
  assert.equal(hex(bind(['é', null])), '42' + '00000016' + '0000' + '0000' + '0002' + '00000002c3a9' + 'ffffffff' + '0000');
  assert.equal(hex(describePortal()), hex(Buffer.from('D\0\0\0\x06P\0', 'latin1')));
  assert.equal(hex(execute(0)), hex(Buffer.from('E\0\0\0\x09\0\0\0\0\0', 'latin1')));
  assert.equal(hex(execute(11)), hex(Buffer.from('E\0\0\0\x09\0\0\0\0\x0b', 'latin1')));
  assert.equal(hex(sync()), '5300000004');
  assert.equal(hex(terminate()), '5800000004');
});

test('a pipeline is each statement as Parse, Bind, Describe, Execute, then exactly one Sync', () => {
  const bytes = extendedQuery([{ sql: 'SELECT 1' }, { sql: 'SELECT $1', params: ['x'] }], 0);
  const expected = Buffer.concat([parse('SELECT 1'), bind([]), describePortal(), execute(0), parse('SELECT $1'), bind(['x']), describePortal(), execute(0), sync()]);
  assert.equal(hex(bytes), hex(expected));
});

test('SASL and password messages are type p with their data', () => {
  assert.equal(hex(saslInitialResponse('SCRAM-SHA-256', Buffer.from('abc'))), hex(Buffer.from('p\0\0\0\x19SCRAM-SHA-256\0\0\0\0\x03abc', 'latin1')));
  assert.equal(hex(passwordMessage('pw')), hex(Buffer.from('p\0\0\0\x07pw\0', 'latin1')));
});

test('a NUL inside SQL, a startup value or a password is refused, since it would end the field early', () => {
  const refused = (make: () => Buffer) => assert.throws(make, (error: unknown) => error instanceof PgClientError && error.code === 'invalid_query');
  refused(() => parse('SELECT 1\0; DROP TABLE t'));
  refused(() => startupMessage([['user', 'u\0database']]));
  refused(() => passwordMessage('a\0b'));
});

test('Bind refuses a parameter that is not a string or null, and more than 65535 parameters', () => {
  assert.throws(() => bind([42 as unknown as string]), /neither a string nor null/);
  assert.throws(() => bind(new Array<string>(65536).fill('x')), /more than 65535 parameters/);
  assert.equal(bind(new Array<string>(65535).fill('')).readUInt16BE(9), 65535);
});
