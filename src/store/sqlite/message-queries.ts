// Every read the API makes, as prepared statements on one connection; nothing here writes. Each
// request's statements run in one read transaction, so a page and its total agree.
//
// The SQL of a listing is assembled only from the constant fragments below, chosen by which
// filters are present (its "shape"); every value is a bound parameter. Each shape has one plan,
// fixed by the indexes of migration 2 and pinned by test/message-queries.test.ts:
// - order and `since` ride the index (ts_key, message_id); `from` rides (from_msisdn, ts_key,
//   message_id), whose order is already the listing order, so no shape sorts except search;
// - `q` of 3 or more characters is driven by the trigram index (CROSS JOIN fixes the join
//   order): rows holding every trigram of q are the candidates, with the few rows the index has
//   not reached yet (search-index.ts), then sorted. Shorter, or with a `from` whose sender has few
//   messages (its maintained count says so), the text of each row in range is checked instead.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ListPosition, MessagePage, MessageQuery, MessageStats } from '../store.ts';
import { fitPage } from '../page-fit.ts';
import { inReadTransaction } from './transaction.ts';
import type { InboundMessage } from '../../model/message.ts';

export type MessageQueries = {
  listMessages(query: MessageQuery): MessagePage;
  stats(): MessageStats;
};

/** Called by read_tick() while a listing runs (TICK); throws to abandon the read. */
export type ReadTick = () => void;

const TRIGRAM = 3;
// Any subset of q's trigrams finds a superset of its matches; a bound on how many keeps a long
// query from costing one index lookup per character.
const MAX_TRIGRAMS = 16;
// Checking one sender's rows one by one is cheaper than a search for a common word up to about this
// many, and bounded (README, "What each query costs").
const SCAN_SENDER_UP_TO = 5_000;

type Search = 'none' | 'trigram_index' | 'text_scan';
type Shape = { from: boolean; since: boolean; search: Search; after: boolean };
type Params = Record<string, SQLInputValue>;
type MessageRow = { message_id: string; from_msisdn: string; to_msisdn: string; ts: string; ts_key: string; text: string | null };

export function prepareMessageQueries(db: DatabaseSync, tick: ReadTick = () => {}): MessageQueries {
  // Registered before any statement that calls it is prepared.
  db.function('read_tick', { deterministic: false, directOnly: true }, () => {
    tick();
    return 1;
  });
  const totals = db.prepare('SELECT message_count, sender_count FROM message_totals WHERE id = 1');
  const senderCount = db.prepare('SELECT message_count FROM sender_counts WHERE from_msisdn = ?');
  const topSenders = db.prepare('SELECT from_msisdn, message_count FROM top_senders ORDER BY message_count DESC, from_msisdn ASC');
  const firstTs = db.prepare('SELECT ts FROM messages ORDER BY ts_key ASC, message_id ASC LIMIT 1');
  const lastTs = db.prepare('SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1');

  // One prepared statement per shape actually used, kept for the life of the connection.
  const statements = new Map<string, StatementSync>();
  function statement(sql: string): StatementSync {
    let prepared = statements.get(sql);
    if (prepared === undefined) {
      prepared = db.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  }

  function readTotals(): { message_count: number; sender_count: number } {
    return totals.get() as { message_count: number; sender_count: number };
  }

  function messagesFrom(sender: string): number {
    return (senderCount.get(sender) as { message_count: number } | undefined)?.message_count ?? 0;
  }

  function countMatching(query: MessageQuery, shape: Shape, senderMessages: number): number {
    // The cheap exact answers first: maintained counters, no rows touched.
    if (countedByCounters(shape)) return query.from === null ? readTotals().message_count : senderMessages;
    const row = statement(countSql(shape)).get(filterParams(query, shape)) as { n: number };
    return row.n;
  }

  return {
    listMessages(query) {
      return inReadTransaction(db, () => {
        const senderMessages = query.from === null ? 0 : messagesFrom(query.from);
        const shape = shapeOf(query, senderMessages);
        const total = countMatching(query, shape, senderMessages);
        // Past the end there is nothing to read: answer without walking `offset` rows. (With a
        // cursor, offset is 0 and this only skips reading an empty result.)
        if (query.offset >= total) return { messages: [], total, next: null };

        // One row more than the page tells whether a next page exists, without counting.
        const params = { ...filterParams(query, shape), limit: query.limit + 1, offset: query.offset };
        if (query.after !== null) Object.assign(params, { after_key: query.after.tsKey, after_id: query.after.messageId });
        const rows = statement(pageSql(shape)).all(params) as MessageRow[];
        const page = rows.slice(0, query.limit);
        const messages = fitPage(page.map(toMessage), query.maxBytes);
        // A next page exists when a row beyond this page was read, or the byte budget cut it short.
        const last = page[messages.length - 1];
        const more = rows.length > query.limit || messages.length < page.length;
        const next: ListPosition | null = more && last !== undefined ? { tsKey: last.ts_key, messageId: last.message_id } : null;
        return { messages: [...messages], total, next };
      });
    },

    stats() {
      return inReadTransaction(db, () => {
        const { message_count, sender_count } = readTotals();
        const top = topSenders.all() as { from_msisdn: string; message_count: number }[];
        return {
          total_messages: message_count,
          senders_count: sender_count,
          messages_per_sender: top.map((row) => ({ from: row.from_msisdn, count: row.message_count })),
          first_message_ts: (firstTs.get() as { ts: string } | undefined)?.ts ?? null,
          last_message_ts: (lastTs.get() as { ts: string } | undefined)?.ts ?? null,
        };
      });
    },
  };
}

/**
 * The SQL a listing runs: its count (null when a maintained counter answers) and its page.
 * `senderMessages` is how many messages the `from` sender has (0 without `from`).
 */
export function listingSql(query: MessageQuery, senderMessages = 0): { count: string | null; page: string } {
  const shape = shapeOf(query, senderMessages);
  return { count: countedByCounters(shape) ? null : countSql(shape), page: pageSql(shape) };
}

function countedByCounters(shape: Shape): boolean {
  return !shape.since && shape.search === 'none';
}

function shapeOf(query: MessageQuery, senderMessages: number): Shape {
  return {
    from: query.from !== null,
    since: query.sinceKey !== null,
    search: searchOf(query, senderMessages),
    after: query.after !== null,
  };
}

function searchOf({ q, from }: MessageQuery, senderMessages: number): Search {
  if (q === null) return 'none';
  // FTS5 cannot parse a query holding NUL; only the row check handles it.
  const indexable = [...q].length >= TRIGRAM && !q.includes('\0');
  if (!indexable) return 'text_scan';
  // A sender's own rows, when few, are cheaper to check than a common word's candidates.
  return from !== null && senderMessages <= SCAN_SENDER_UP_TO ? 'text_scan' : 'trigram_index';
}

/**
 * The FTS5 query for rows holding every trigram of q: `"abc" AND "bcd" ...`. Inside double quotes
 * every character is literal except a doubled quote. A-Z are lowered first only to drop repeats;
 * the index folds case itself.
 */
export function trigramQuery(q: string): string {
  const characters = [...q.replace(/[A-Z]/g, (letter) => letter.toLowerCase())];
  const trigrams = new Set<string>();
  for (let start = 0; start + TRIGRAM <= characters.length && trigrams.size < MAX_TRIGRAMS; start++) {
    trigrams.add(characters.slice(start, start + TRIGRAM).join(''));
  }
  return [...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ');
}

/**
 * What a shape reads, as `FROM ... WHERE ...` parts whose rows together are the matches. A trigram
 * search has two: the rows the index already covers, found through it (CROSS JOIN makes the index
 * drive the join), and the few stored since, above search_progress.indexed_through, whose text is
 * checked directly (search-index.ts). The index holds no row above the mark, so none is counted twice.
 */
function parts(shape: Shape, extra: string[] = []): string[] {
  const conditions = [...filterConditions(shape), ...extra];
  if (shape.search !== 'trigram_index') return [`FROM messages AS m ${whereClause(conditions)}`];
  return [
    `FROM messages_text CROSS JOIN messages AS m ON m.id = messages_text.rowid
     ${whereClause(['messages_text MATCH :trigrams', ...conditions])}`,
    // NOT INDEXED keeps the planner on the id range (at most a few chunks of rows), never on an
    // index that yields listing order but would walk far more.
    `FROM messages AS m NOT INDEXED
     ${whereClause(['m.id > (SELECT indexed_through FROM search_progress WHERE id = 1)', ...conditions])}`,
  ];
}

/**
 * Every row a listing reads passes this condition first (SQLite evaluates AND and OR left to right
 * and stops early): one row in 1,024 calls read_tick(), a JavaScript function the reader thread
 * registers (read-clock.ts). It abandons a read past its deadline by throwing, and it is where the
 * thread can be stopped: a statement running in SQLite's C code cannot be interrupted otherwise.
 */
const TICK = '((m.id & 1023) != 0 OR read_tick())';

function filterConditions(shape: Shape): string[] {
  const conditions: string[] = [TICK];
  if (shape.from) conditions.push('m.from_msisdn = :from');
  if (shape.since) conditions.push('m.ts_key >= :since');
  // The trigram index (with its Unicode case folding) only narrows the candidates; this check
  // alone decides, so both search paths agree: a literal substring (no wildcards exist in instr),
  // case-insensitive for A-Z as SQLite's lower() is, and false for null text.
  if (shape.search !== 'none') conditions.push('instr(lower(m.text), lower(:q)) > 0');
  return conditions;
}

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

function countSql(shape: Shape): string {
  const counted = parts(shape);
  if (counted.length === 1) return `SELECT count(*) AS n ${counted[0]}`;
  return `SELECT ${counted.map((part) => `(SELECT count(*) ${part})`).join(' + ')} AS n`;
}

function pageSql(shape: Shape): string {
  const after = shape.after ? ['(m.ts_key, m.message_id) > (:after_key, :after_id)'] : [];
  const selects = parts(shape, after).map((part) => `SELECT m.message_id, m.from_msisdn, m.to_msisdn, m.ts, m.ts_key, m.text ${part}`);
  return `${selects.join(' UNION ALL ')} ORDER BY ts_key, message_id LIMIT :limit OFFSET :offset`;
}

function filterParams(query: MessageQuery, shape: Shape): Params {
  const params: Params = {};
  if (shape.from) params.from = query.from;
  if (shape.since) params.since = query.sinceKey;
  if (shape.search !== 'none') params.q = query.q;
  if (shape.search === 'trigram_index') params.trigrams = trigramQuery(query.q ?? '');
  return params;
}

/** Exactly the five fields of the API, in order, whatever else the row carries. */
function toMessage(row: MessageRow): InboundMessage {
  return { message_id: row.message_id, from: row.from_msisdn, to: row.to_msisdn, ts: row.ts, text: row.text };
}
