// The answer to one extendedQuery (frontend.ts): for each statement ParseComplete, BindComplete,
// RowDescription or NoData, DataRows, then CommandComplete (or EmptyQueryResponse, or
// PortalSuspended at the row limit); finally ReadyForQuery. Pure: it is fed the messages, in order,
// and says at ReadyForQuery whether the whole run succeeded.
//
// Nothing is reported before ReadyForQuery, and a run succeeds only if no ErrorResponse came at all:
// the statements share one implicit transaction, so after an error none of them took effect, even
// those whose CommandComplete arrived (the server skips to Sync and rolls back). An error can even
// come after every statement completed: a deferred constraint fails at the commit that Sync
// triggers. Messages that do not fit the sequence are protocol violations.
import { decodeCommandComplete, decodeDataRow, decodeFields, decodeRowDescription } from './backend.ts';
import type { BackendMessage } from './message-reader.ts';
import { PgClientError } from './pg-client-error.ts';
import { pgErrorFromFields, type PgError } from './pg-error.ts';

export type Row = (string | null)[];

export type QueryResult = {
  /** Column names, in order; empty for a statement that returns no rows (INSERT without RETURNING). */
  columns: string[];
  /** Each row's values as text, null for SQL NULL, in column order. */
  rows: Row[];
  /** The command tag without its count: "SELECT", "INSERT", "CREATE TABLE"; "" for an empty query. */
  command: string;
  /** Rows affected or returned, as the server counted them; null for commands without a count. */
  rowCount: number | null;
};

export type RunLimits = {
  /** Most rows kept per statement, or null (no limit). */
  maxRows: number | null;
  /** Most DataRow bytes kept for the whole run. */
  maxResultBytes: number;
};

export type RunOutcome = { ok: true; results: QueryResult[] } | { ok: false; error: Error };

export type PipelineRun = {
  /** Takes the next message (not N, S or A); true once ReadyForQuery ends the run. Throws PgClientError. */
  accept(message: BackendMessage): boolean;
  /** The server's error so far, for a run cut short by a lost connection. */
  serverError(): PgError | null;
  outcome(): RunOutcome;
};

type Step = 'parse' | 'bind' | 'describe' | 'rows';

const violation = (detail: string) => new PgClientError('protocol_violation', detail);

export function createPipelineRun(statementCount: number, limits: RunLimits): PipelineRun {
  let results: QueryResult[] = [];
  let step: Step = 'parse';
  let columns: string[] = [];
  let rows: Row[] = [];
  let resultBytes = 0;
  let overLimit = false;
  let error: PgError | null = null;
  /** Statements fully answered so far. */
  let answered = 0;

  function finishStatement(command: string, rowCount: number | null): void {
    if (!overLimit) results.push({ columns, rows, command, rowCount });
    columns = [];
    rows = [];
    step = 'parse';
  }

  function refuseOverLimit(): void {
    // Drop what is held at once: the run fails anyway, and the memory is the point of the limit.
    overLimit = true;
    results = [];
    rows = [];
  }

  function expect(current: Step, what: string): void {
    if (step !== current) throw violation(`${what} out of sequence`);
  }

  return {
    accept(message) {
      if (message.type === 'Z') {
        if (error === null && (answered !== statementCount || step !== 'parse')) throw violation('ReadyForQuery before every statement was answered');
        return true;
      }
      if (message.type === 'E') {
        // After an error the server skips to Sync; a second one (a FATAL while it skips) changes nothing.
        error ??= pgErrorFromFields(decodeFields(message.body), answered < statementCount ? answered : null) ?? null;
        if (error === null) throw violation('an error without a valid SQLSTATE');
        return false;
      }
      if (error !== null) throw violation('a message after an error, before ReadyForQuery');
      if (answered >= statementCount) throw violation('more answers than statements');
      switch (message.type) {
        case '1':
          expect('parse', 'ParseComplete');
          step = 'bind';
          break;
        case '2':
          expect('bind', 'BindComplete');
          step = 'describe';
          break;
        case 'T':
          expect('describe', 'RowDescription');
          columns = decodeRowDescription(message.body);
          step = 'rows';
          break;
        case 'n':
          expect('describe', 'NoData');
          step = 'rows';
          break;
        case 'D': {
          expect('rows', 'DataRow');
          if (columns.length === 0) throw violation('a DataRow for a statement without columns');
          resultBytes += message.body.length;
          if (resultBytes > limits.maxResultBytes || (limits.maxRows !== null && rows.length >= limits.maxRows)) refuseOverLimit();
          if (!overLimit) rows.push(decodeDataRow(message.body, columns.length));
          break;
        }
        case 'C': {
          expect('rows', 'CommandComplete');
          const tag = decodeCommandComplete(message.body);
          finishStatement(tag.command, tag.rowCount);
          answered++;
          break;
        }
        case 'I':
          expect('rows', 'EmptyQueryResponse');
          finishStatement('', null);
          answered++;
          break;
        case 's':
          // Execute asked for at most maxRows + 1 rows: reaching it means there were more.
          expect('rows', 'PortalSuspended');
          if (limits.maxRows === null) throw violation('PortalSuspended without a row limit');
          refuseOverLimit();
          finishStatement('', null);
          answered++;
          break;
        case 'G':
        case 'H':
        case 'W':
          throw new PgClientError('unsupported', 'COPY');
        default:
          throw violation('an unexpected message during a query');
      }
      return false;
    },
    serverError: () => error,
    outcome() {
      if (error !== null) return { ok: false, error };
      if (overLimit) return { ok: false, error: new PgClientError('result_too_large') };
      return { ok: true, results };
    },
  };
}
