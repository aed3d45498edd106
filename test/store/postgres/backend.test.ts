import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeAuthentication,
  decodeBackendKeyData,
  decodeCommandComplete,
  decodeDataRow,
  decodeFields,
  decodeNotification,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  decodeSaslMechanisms,
} from '../../../src/store/postgres/wire/backend.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import * as pg from '../../support/pg-messages.ts';

/** The body of a message built by the test support (after its 5-byte header). */
const body = (message: Buffer) => message.subarray(5);
const isViolation = (error: unknown) => error instanceof PgClientError && error.code === 'protocol_violation';

test('RowDescription gives the column names; DataRow gives text values and nulls', () => {
  assert.deepEqual(decodeRowDescription(body(pg.rowDescription('id', 'név'))), ['id', 'név']);
  assert.deepEqual(decodeDataRow(body(pg.dataRow('1', null, '', 'ü')), 4), ['1', null, '', 'ü']);
});

test('a DataRow with another column count, or a value running past the end, is a violation', () => {
  assert.throws(() => decodeDataRow(body(pg.dataRow('1', '2')), 3), isViolation);
  const truncated = Buffer.concat([pg.int16(1), pg.int32(10), Buffer.from('abc')]);
  assert.throws(() => decodeDataRow(truncated, 1), isViolation);
  const negative = Buffer.concat([pg.int16(1), pg.int32(-2)]);
  assert.throws(() => decodeDataRow(negative, 1), isViolation);
});

test('a column in binary format is a violation: every Bind asks for text', () => {
  const binary = Buffer.concat([pg.int16(1), Buffer.from('a\0'), pg.int32(0), pg.int16(0), pg.int32(23), pg.int16(4), pg.int32(-1), pg.int16(1)]);
  assert.throws(() => decodeRowDescription(binary), isViolation);
});

test('CommandComplete tags split into command and row count', () => {
  const tag = (text: string) => decodeCommandComplete(body(pg.commandComplete(text)));
  assert.deepEqual(tag('INSERT 0 5'), { command: 'INSERT', rowCount: 5 });
  assert.deepEqual(tag('UPDATE 3'), { command: 'UPDATE', rowCount: 3 });
  assert.deepEqual(tag('SELECT 0'), { command: 'SELECT', rowCount: 0 });
  assert.deepEqual(tag('DELETE 12'), { command: 'DELETE', rowCount: 12 });
  assert.deepEqual(tag('CREATE TABLE'), { command: 'CREATE TABLE', rowCount: null });
  assert.deepEqual(tag('COMMIT'), { command: 'COMMIT', rowCount: null });
});

test('ReadyForQuery status bytes map to idle, in_transaction and failed; anything else is a violation', () => {
  assert.equal(decodeReadyForQuery(body(pg.readyForQuery('I'))), 'idle');
  assert.equal(decodeReadyForQuery(body(pg.readyForQuery('T'))), 'in_transaction');
  assert.equal(decodeReadyForQuery(body(pg.readyForQuery('E'))), 'failed');
  assert.throws(() => decodeReadyForQuery(Buffer.from('X')), isViolation);
  assert.throws(() => decodeReadyForQuery(Buffer.from('II')), isViolation);
});

test('error fields are read by letter until the zero byte', () => {
  const fields = decodeFields(body(pg.errorResponse('23505', { D: 'Key (id)=(1) already exists.', n: 'pk' })));
  assert.equal(fields.get('C'), '23505');
  assert.equal(fields.get('n'), 'pk');
  assert.throws(() => decodeFields(Buffer.from('Cabc')), isViolation, 'a field without its NUL');
  assert.throws(() => decodeFields(Buffer.from('Cabc\0')), isViolation, 'no terminating zero byte');
});

test('authentication, parameter, key, notification and SASL list decoders read exact bodies', () => {
  assert.deepEqual(decodeAuthentication(body(pg.authMd5())), { code: 5, data: Buffer.from([1, 2, 3, 4]) });
  assert.deepEqual(decodeSaslMechanisms(body(pg.authSasl('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256')).subarray(4)), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
  assert.deepEqual(decodeParameterStatus(body(pg.parameterStatus('TimeZone', 'UTC'))), { name: 'TimeZone', value: 'UTC' });
  assert.deepEqual(decodeBackendKeyData(body(pg.backendKeyData(77, -5))), { processId: 77, secretKey: -5 });
  assert.deepEqual(decodeNotification(body(pg.notification(9, 'chan', 'data'))), { processId: 9, channel: 'chan', payload: 'data' });
});

test('bytes past the end of a fixed-size message are a violation', () => {
  assert.throws(() => decodeBackendKeyData(Buffer.concat([body(pg.backendKeyData(1, 2)), Buffer.from([0])])), isViolation);
  assert.throws(() => decodeParameterStatus(Buffer.from('a\0b\0c')), isViolation);
  assert.throws(() => decodeBackendKeyData(Buffer.from([0, 0, 0])), isViolation);
});
