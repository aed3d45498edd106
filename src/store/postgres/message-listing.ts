// GET /messages on PostgreSQL, with exactly the semantics of the SQLite backend
// (sqlite/message-queries.ts): order by (ts_key, message_id) in byte order; `from` exact; `since`
// as ts_key >= the key; `q` a literal substring of text, case-insensitive for A-Z only; `after` a
// keyset position; `offset`; an exact `total` of every match; the page cut by its byte budget
// (page-fit.ts), `next` set when a row beyond the page exists or the budget cut it short.
//
// The SQL is assembled only from the constant fragments below; every value is a bound parameter.
// - Totals without `since` or `q` come from the maintained counters, not from counting rows.
// - `q` is decided by strpos over text with A-Z folded by translate(): SQLite's lower() folds
//   ASCII only, and instr() finds a literal substring (no wildcards). From three characters on,
//   ILIKE '%q%' (with %, _ and \ escaped) is added for the trigram index to narrow the candidates:
//   text is COLLATE "C", under which ILIKE folds ASCII only too, so it keeps every row the exact
//   check keeps.
//
// PostgreSQL text cannot hold U+0000, so no stored text or sender holds it: a `q` or `from` with
// one matches nothing, exactly. An `after` id with one compares to every stored id as its prefix
// before the first U+0000 does (a stored id that extends the prefix has a byte above 0 there), so
// the prefix is sent in its place.
import { fitPage } from '../page-fit.ts';
import type { ListPosition, MessagePage, MessageQuery } from '../store.ts';
import type { InboundMessage } from '../../model/message.ts';
import type { Snapshot } from './read-snapshot.ts';
import type { Row } from './wire/client.ts';

const TRIGRAM = 3;
const FOLD = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'";
const COLUMNS = 'm.message_id, m.from_msisdn, m.to_msisdn, m.ts, m.ts_key, m.text';

export async function listMessages(snapshot: Snapshot, query: MessageQuery): Promise<MessagePage> {
  if (query.from?.includes('\0') === true || query.q?.includes('\0') === true) return { messages: [], total: 0, next: null };
  const sql = listingSql(query);
  const total = Number((await snapshot.query(sql.count, sql.countParams)).rows[0]?.[0] ?? 0);
  // Past the end there is nothing to read: answer without walking `offset` rows.
  if (query.offset >= total) return { messages: [], total, next: null };

  // One row more than the page tells whether a next page exists, without counting.
  const rows = (await snapshot.query(sql.page, sql.pageParams)).rows;
  const page = rows.slice(0, query.limit);
  const messages = fitPage(page.map(toMessage), query.maxBytes);
  // A next page exists when a row beyond this page was read, or the byte budget cut it short.
  const last = page[messages.length - 1];
  const more = rows.length > query.limit || messages.length < page.length;
  const next: ListPosition | null = more && last !== undefined ? { tsKey: last[4] as string, messageId: last[0] as string } : null;
  return { messages: [...messages], total, next };
}

export type ListingSql = { count: string; countParams: string[]; page: string; pageParams: string[] };

/** The two statements of a listing: its count (from a counter when one answers) and its page. */
export function listingSql(query: MessageQuery): ListingSql {
  const countParams: string[] = [];
  const count = counterSql(query, countParams) ?? `SELECT count(*) FROM messages AS m ${whereClause(filters(query, countParams))}`;

  const pageParams: string[] = [];
  const conditions = filters(query, pageParams);
  if (query.after !== null) {
    const afterKey = bind(pageParams, query.after.tsKey);
    const afterId = bind(pageParams, beforeNul(query.after.messageId));
    conditions.push(`(m.ts_key, m.message_id) > (${afterKey}, ${afterId})`);
  }
  const limit = bind(pageParams, String(query.limit + 1));
  const offset = bind(pageParams, String(query.offset));
  const page = `SELECT ${COLUMNS} FROM messages AS m ${whereClause(conditions)}
                ORDER BY m.ts_key, m.message_id LIMIT ${limit}::int OFFSET ${offset}::bigint`;
  return { count, countParams, page, pageParams };
}

/** The count from maintained counters, when the filters allow one: no `since`, no `q`. */
function counterSql(query: MessageQuery, params: string[]): string | null {
  if (query.sinceKey !== null || query.q !== null) return null;
  if (query.from === null) return 'SELECT coalesce(sum(message_count), 0) FROM message_totals';
  return `SELECT coalesce((SELECT message_count FROM sender_counts WHERE from_msisdn = ${bind(params, query.from)}), 0)`;
}

function filters(query: MessageQuery, params: string[]): string[] {
  const conditions: string[] = [];
  if (query.from !== null) conditions.push(`m.from_msisdn = ${bind(params, query.from)}`);
  if (query.sinceKey !== null) conditions.push(`m.ts_key >= ${bind(params, query.sinceKey)}`);
  if (query.q !== null) {
    if ([...query.q].length >= TRIGRAM) conditions.push(`m.text ILIKE ${bind(params, `%${escapeLike(query.q)}%`)}`);
    // The check that decides; null text never matches (strpos of null is null).
    conditions.push(`strpos(translate(m.text, ${FOLD}), ${bind(params, foldAscii(query.q))}) > 0`);
  }
  return conditions;
}

function bind(params: string[], value: string): string {
  params.push(value);
  return `$${params.length}`;
}

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** A LIKE pattern matching `text` literally: the escape character (backslash) first, then the wildcards. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** A-Z to a-z and nothing else, as translate() folds the column. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function beforeNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** Exactly the five fields of the API, in order. */
function toMessage(row: Row): InboundMessage {
  const [messageId, from, to, ts, , text] = row;
  return { message_id: messageId as string, from: from as string, to: to as string, ts: ts as string, text: text ?? null };
}
