import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMessageReader } from '../../../src/store/postgres/wire/message-reader.ts';
import { PgClientError } from '../../../src/store/postgres/wire/pg-client-error.ts';
import { PgError } from '../../../src/store/postgres/wire/pg-error.ts';
import { createPipelineRun, type RunLimits, type RunOutcome } from '../../../src/store/postgres/wire/pipeline-run.ts';
import * as pg from '../../support/pg-messages.ts';

const NO_LIMITS: RunLimits = { maxRows: null, maxResultBytes: 1024 * 1024 };

/** Feeds the run every message in `bytes`; returns its outcome, or null if no ReadyForQuery came. */
function feed(statements: number, bytes: Buffer[], limits = NO_LIMITS): RunOutcome | null {
  const run = createPipelineRun(statements, limits);
  for (const message of createMessageReader(1 << 20).push(Buffer.concat(bytes))) {
    if (run.accept(message)) return run.outcome();
  }
  return null;
}

const isViolation = (error: unknown) => error instanceof PgClientError && error.code === 'protocol_violation';

test('two statements answered in full give two results, only at ReadyForQuery', () => {
  const answer = [pg.statementAnswer(['id', 'name'], [['1', 'a'], ['2', null]], 'SELECT 2'), pg.statementAnswer([], [], 'INSERT 0 1')];
  assert.equal(feed(2, answer), null, 'nothing before ReadyForQuery');
  assert.deepEqual(feed(2, [...answer, pg.readyForQuery()]), {
    ok: true,
    results: [
      { columns: ['id', 'name'], rows: [['1', 'a'], ['2', null]], command: 'SELECT', rowCount: 2 },
      { columns: [], rows: [], command: 'INSERT', rowCount: 1 },
    ],
  });
});

test('an error in the second statement fails the whole pipeline with the server error, first statement included', () => {
  const outcome = feed(3, [pg.statementAnswer([], [], 'INSERT 0 1'), pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.errorResponse('23505'), pg.readyForQuery()]);
  assert.ok(outcome !== null && !outcome.ok);
  assert.ok(outcome.error instanceof PgError);
  assert.equal(outcome.error.code, '23505');
  assert.equal(outcome.error.statementIndex, 1);
  assert.equal(outcome.error.message, 'postgres error 23505');
});

test('an error after every statement completed (a deferred constraint at commit) still fails the pipeline', () => {
  const outcome = feed(2, [pg.statementAnswer([], [], 'INSERT 0 1'), pg.statementAnswer([], [], 'INSERT 0 1'), pg.errorResponse('23503'), pg.readyForQuery()]);
  assert.ok(outcome !== null && !outcome.ok && outcome.error instanceof PgError);
  assert.equal(outcome.error.code, '23503');
  assert.equal(outcome.error.statementIndex, null);
});

test('an empty query gives an empty command; a Parse error fails at once', () => {
  assert.deepEqual(feed(1, [pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.emptyQueryResponse(), pg.readyForQuery()]), {
    ok: true,
    results: [{ columns: [], rows: [], command: '', rowCount: null }],
  });
  const outcome = feed(1, [pg.errorResponse('42601'), pg.readyForQuery()]);
  assert.ok(outcome !== null && !outcome.ok && outcome.error instanceof PgError && outcome.error.statementIndex === 0);
});

test('messages out of sequence, after an error, or too few answers are protocol violations', () => {
  assert.throws(() => feed(1, [pg.bindComplete()]), isViolation);
  assert.throws(() => feed(1, [pg.parseComplete(), pg.bindComplete(), pg.dataRow('1')]), isViolation, 'a DataRow before its description');
  assert.throws(() => feed(1, [pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.dataRow('1')]), isViolation, 'a row for no columns');
  assert.throws(() => feed(1, [pg.errorResponse('42601'), pg.parseComplete()]), isViolation, 'anything but ReadyForQuery after an error');
  assert.throws(() => feed(2, [pg.statementAnswer([], [], 'SELECT 0'), pg.readyForQuery()]), isViolation, 'one answer for two statements');
  assert.throws(() => feed(1, [pg.statementAnswer([], [], 'SELECT 0'), pg.statementAnswer([], [], 'SELECT 0')]), isViolation, 'more answers than statements');
  assert.throws(() => feed(1, [pg.errorResponse('ABC')]), isViolation, 'an SQLSTATE that is not five characters');
});

test('COPY is refused as unsupported', () => {
  assert.throws(
    () => feed(1, [pg.parseComplete(), pg.bindComplete(), pg.noData(), pg.copyInResponse()]),
    (error: unknown) => error instanceof PgClientError && error.code === 'unsupported',
  );
});

test('past maxRows the run rejects with result_too_large, whether the server stops (PortalSuspended) or not', () => {
  const limits = { maxRows: 2, maxResultBytes: 1 << 20 };
  const rows = [['1'], ['2'], ['3']];
  assert.deepEqual(feed(1, [pg.statementAnswer(['n'], rows.slice(0, 2), 'SELECT 2'), pg.readyForQuery()], limits), {
    ok: true,
    results: [{ columns: ['n'], rows: [['1'], ['2']], command: 'SELECT', rowCount: 2 }],
  });
  const suspended = [pg.parseComplete(), pg.bindComplete(), pg.rowDescription('n'), ...rows.map((row) => pg.dataRow(...row)), pg.portalSuspended(), pg.readyForQuery()];
  const ignoringLimit = [pg.statementAnswer(['n'], rows, 'SELECT 3'), pg.readyForQuery()];
  for (const answer of [suspended, ignoringLimit]) {
    const outcome = feed(1, answer, limits);
    assert.ok(outcome !== null && !outcome.ok && outcome.error instanceof PgClientError);
    assert.equal(outcome.error.code, 'result_too_large');
  }
});

test('past maxResultBytes the run rejects with result_too_large', () => {
  const outcome = feed(1, [pg.statementAnswer(['t'], [['x'.repeat(600)], ['y'.repeat(600)]], 'SELECT 2'), pg.readyForQuery()], { maxRows: null, maxResultBytes: 1000 });
  assert.ok(outcome !== null && !outcome.ok && outcome.error instanceof PgClientError);
  assert.equal(outcome.error.code, 'result_too_large');
});

test('a server error takes precedence over the row limit: it says the statements rolled back', () => {
  const outcome = feed(1, [pg.parseComplete(), pg.bindComplete(), pg.rowDescription('n'), pg.dataRow('1'), pg.dataRow('2'), pg.errorResponse('22012'), pg.readyForQuery()], { maxRows: 1, maxResultBytes: 1 << 20 });
  assert.ok(outcome !== null && !outcome.ok && outcome.error instanceof PgError);
  assert.equal(outcome.error.code, '22012');
});
