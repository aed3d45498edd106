// The feed on PostgreSQL: messages in commit order, resumable from a position with none lost and
// none repeated, whichever replica stored them and whichever serves the next page.
//
// Commit order is not id order here: transactions get their ids when they start writing and may
// commit in any order, so a transaction with a lower id can commit after one with a higher id has
// been delivered. A feed that simply followed ids would skip it for good. So each row records the
// id of the transaction that stored it (txid, xid8, never wrapping), and a page only ever delivers
// rows of transactions below the horizon: the xmin of the reading snapshot, below which every
// transaction has finished, committed or rolled back. No row can appear below the horizon later,
// so the position (txid, message_id) of the last row delivered can be trusted: everything before it
// has been seen. The rows of a transaction come in message_id order, all at once or not at all.
//
// - A page holds the rows with (txid, message_id) > position and txid < horizon, in that order, at
//   most `limit`. When it is not full it has read everything below the horizon, so the position
//   moves to (horizon, ''): before every row of the horizon's transaction, after all before it.
// - With `from`, the rows of other senders are read (at most FEED_SCAN_ROWS a page, without their
//   text) and skipped, and the position moves past them too: a consumer following one sender is
//   never stuck behind a long stretch of others.
// - `after: null` answers the horizon: a consumer starts there. Rows of transactions at or above
//   the horizon that had already committed come in its first page; none is lost.
// - Limit: a long-running writing transaction anywhere on the server (transaction ids are shared
//   by all its databases: a migration, a stuck session, a prepared transaction) holds the horizon
//   back. Delivery then waits for it, rows pile up behind it, and nothing is lost: they are
//   delivered once it ends.
import type { InboundMessage } from '../../model/message.ts';
import { FeedPositionError, type FeedPage, type FeedRequest } from '../store.ts';
import { decodeFeedPosition, encodeFeedPosition, txidAfter, type FeedPosition } from './feed-position.ts';
import type { Snapshot } from './read-snapshot.ts';
import type { Row } from './wire/client.ts';

/** Most rows one filtered page reads, matching or not. */
const FEED_SCAN_ROWS = 1000;

const HORIZON = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text';

/**
 * $4: the sender wanted, or null for all. Other senders' rows come without their text. The order
 * names the table's columns (m.): an unqualified txid would be the text column of the output,
 * ordered as text, where '1000' comes before '999'.
 */
const PAGE = `
SELECT m.txid::text, m.message_id, m.from_msisdn, m.to_msisdn, m.ts,
       CASE WHEN $4::text IS NULL OR m.from_msisdn = $4 THEN m.text END,
       $4::text IS NULL OR m.from_msisdn = $4
FROM messages AS m
WHERE (m.txid, m.message_id) > ($1::xid8, $2) AND m.txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY m.txid, m.message_id
LIMIT $3::int`;

export async function readFeed(snapshot: Snapshot, request: FeedRequest): Promise<FeedPage> {
  if (request.after === null) {
    const horizon = (await snapshot.query(HORIZON)).rows[0]?.[0] as string;
    return { items: [], position: encodeFeedPosition({ txid: horizon, messageId: '' }) };
  }
  const after = decodeFeedPosition(request.after);
  if (after === null) throw new FeedPositionError();
  const limit = Math.max(1, request.limit);
  // PostgreSQL text cannot carry U+0000, and no stored sender holds one (E.164): such a filter
  // skips every row, as '+' does, which is no E.164 number.
  const from = request.from?.includes('\0') === true ? '+' : request.from;
  const scan = from === null ? limit : Math.max(limit, FEED_SCAN_ROWS);
  const [horizonResult, page] = await snapshot.pipeline([
    { sql: HORIZON },
    { sql: PAGE, params: [after.txid, after.messageId, String(scan), from] },
  ]);
  const horizon = horizonResult?.rows[0]?.[0] as string;
  if (!reachable(after, horizon)) throw new FeedPositionError();

  const rows = page?.rows ?? [];
  const wanted = rows.filter((row) => row[6] === 't').slice(0, limit);
  const items = wanted.map((row) => ({ position: encodeFeedPosition(positionOf(row)), message: toMessage(row) }));
  const lastItem = items.at(-1);
  const lastRow = rows.at(-1);
  let position: string;
  if (items.length === limit && lastItem !== undefined) position = lastItem.position;
  else if (rows.length === scan && lastRow !== undefined) position = encodeFeedPosition(positionOf(lastRow));
  else position = encodeFeedPosition({ txid: horizon, messageId: '' });
  return { items, position };
}

/**
 * Whether this database could have returned `position`: horizons only grow, and a row's position
 * is below the horizon of the page that delivered it. Anything beyond is another database's, or forged.
 */
function reachable(position: FeedPosition, horizon: string): boolean {
  if (txidAfter(position.txid, horizon)) return false;
  return position.messageId === '' || position.txid !== horizon;
}

function positionOf(row: Row): FeedPosition {
  return { txid: row[0] as string, messageId: row[1] as string };
}

function toMessage(row: Row): InboundMessage {
  const [, messageId, from, to, ts, text] = row;
  return { message_id: messageId as string, from: from as string, to: to as string, ts: ts as string, text: text ?? null };
}
