import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMessageReader, type BackendMessage } from '../../../src/store/postgres/wire/message-reader.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';

/** A backend message: type byte, Int32 length counting itself, body. */
function message(type: string, body: string): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, Buffer.from(body, 'latin1')]);
}

const shown = (messages: BackendMessage[]) => messages.map((each) => `${each.type}:${each.body.toString('latin1')}`);

test('several messages in one chunk all come out, in order', () => {
  const reader = createMessageReader(1024);
  assert.deepEqual(shown(reader.push(Buffer.concat([message('S', 'a\0b\0'), message('Z', 'I'), message('C', '')]))), ['S:a\0b\0', 'Z:I', 'C:']);
  assert.equal(reader.buffered(), 0);
});

test('a message split across chunks, even one byte at a time, comes out once complete', () => {
  const bytes = Buffer.concat([message('D', 'hello world'), message('Z', 'T')]);
  const reader = createMessageReader(1024);
  const out: string[] = [];
  for (const byte of bytes) out.push(...shown(reader.push(Buffer.from([byte]))));
  assert.deepEqual(out, ['D:hello world', 'Z:T']);
  assert.equal(reader.buffered(), 0);
});

test('a chunk ending mid-header keeps the partial bytes for the next chunk', () => {
  const bytes = Buffer.concat([message('N', 'x'), message('Z', 'I')]);
  const reader = createMessageReader(1024);
  assert.deepEqual(shown(reader.push(bytes.subarray(0, 8))), ['N:x']);
  assert.equal(reader.buffered(), 2);
  assert.deepEqual(shown(reader.push(bytes.subarray(8))), ['Z:I']);
});

test('a length below 4 is a protocol violation', () => {
  const bad = Buffer.from([0x5a, 0, 0, 0, 3, 0x49]);
  assert.throws(() => createMessageReader(1024).push(bad), (error: unknown) => error instanceof PgClientError && error.code === 'protocol_violation');
});

test('a length over the limit is refused from the header alone, before its body is waited for', () => {
  const reader = createMessageReader(1000);
  const header = Buffer.from([0x44, 0, 0, 0x03, 0xe9]); // 'D', length 1001
  assert.throws(() => reader.push(header), (error: unknown) => error instanceof PgClientError && error.code === 'message_too_large');
  assert.deepEqual(shown(createMessageReader(1000).push(message('D', 'x'.repeat(996)))), [`D:${'x'.repeat(996)}`]);
});

test('a negative length (a huge unsigned one) is a protocol violation, not an allocation', () => {
  assert.throws(() => createMessageReader(1024).push(Buffer.from([0x44, 0xff, 0xff, 0xff, 0xff])), /protocol/);
});
