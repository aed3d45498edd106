import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { isAdminShutdown, isConnectionError, isDeadlock, isQueryCanceled, isQueryTimeout, isSerializationFailure, isUniqueViolation, sqlState } from '../../../src/store/postgres/wire/classify.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { noticeFromFields, PgError, pgErrorFromFields } from '../../../src/store/postgres/wire/pg-error.ts';

const DATA = 'Key (email)=(alice@example.com) already exists.';

function uniqueViolation(): PgError {
  const error = pgErrorFromFields(new Map([['S', 'ERREUR'], ['V', 'ERROR'], ['C', '23505'], ['M', DATA], ['D', DATA], ['n', 'users_email_key'], ['Z', 'unknown field']]));
  assert.ok(error !== null);
  return error;
}

test('a server error says only its SQLSTATE in its message; the server text is kept apart', () => {
  const error = uniqueViolation();
  assert.equal(error.message, 'postgres error 23505');
  assert.equal(error.code, '23505');
  assert.equal(error.severity, 'ERROR', 'from the untranslated V field');
  assert.equal(error.server.message, DATA);
  assert.equal(error.server.constraint, 'users_email_key');
});

test('logging the error object by the usual means does not show the server text', () => {
  const error = uniqueViolation();
  for (const shown of [inspect(error), JSON.stringify(error), String(error), error.stack ?? '', JSON.stringify({ ...error })]) {
    assert.ok(!shown.includes('alice'), shown);
  }
});

test('an SQLSTATE that is not five digits or capitals is not accepted as one', () => {
  assert.equal(pgErrorFromFields(new Map([['C', 'alice@example.com']])), null);
  assert.equal(pgErrorFromFields(new Map([['C', '2350']])), null);
  assert.equal(noticeFromFields(new Map([['M', 'x']])), null);
});

test('helpers classify by SQLSTATE and by our own codes', () => {
  const byState = (code: string) => new PgError(code, 'ERROR', { message: '' });
  assert.ok(isSerializationFailure(byState('40001')) && !isSerializationFailure(byState('40P01')));
  assert.ok(isDeadlock(byState('40P01')));
  assert.ok(isUniqueViolation(byState('23505')) && !isUniqueViolation(byState('23503')));
  assert.ok(isQueryCanceled(byState('57014')));
  assert.ok(isAdminShutdown(byState('57P01')));
  for (const code of ['08006', '08001', '57P01', '57P02', '57P03']) assert.ok(isConnectionError(byState(code)), code);
  assert.ok(!isConnectionError(byState('23505')));
  assert.ok(isConnectionError(new PgClientError('connection_lost')));
  assert.ok(!isConnectionError(new PgClientError('query_timeout')));
  assert.ok(isQueryTimeout(new PgClientError('query_timeout')));
  assert.equal(sqlState(new Error('x')), null);
  assert.equal(sqlState(byState('42P01')), '42P01');
});

test('a client error message is the fixed text of its code, with our own detail', () => {
  const error = new PgClientError('auth_refused', 'the server signature does not match');
  assert.equal(error.message, 'refused to authenticate with the postgres server: the server signature does not match');
  assert.equal(error.name, 'PgClientError');
});
