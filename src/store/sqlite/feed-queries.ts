// The feed on SQLite: messages in the order they were stored. One writer commits batches one after
// another and ids only grow (AUTOINCREMENT, migration 5: never reused, even after a delete), so id
// order is commit order, and a position is simply the id of the last message a consumer has seen.
import type { DatabaseSync } from 'node:sqlite';
import type { InboundMessage } from '../../model/message.ts';
import { FeedPositionError, type FeedPage, type FeedRequest } from '../store.ts';
import { inReadTransaction } from './transaction.ts';

const POSITION = /^s1:(0|[1-9]\d{0,17})$/;

type FeedRow = { id: number; message_id: string; from_msisdn: string; to_msisdn: string; ts: string; text: string | null };

export function prepareFeedQueries(db: DatabaseSync): (request: FeedRequest) => FeedPage {
  // The highest id ever given, even if that message has since been erased.
  const tail = db.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0) AS id");
  const after = db.prepare(
    'SELECT id, message_id, from_msisdn, to_msisdn, ts, text FROM messages WHERE id > ? ORDER BY id LIMIT ?',
  );
  const afterFrom = db.prepare(
    'SELECT id, message_id, from_msisdn, to_msisdn, ts, text FROM messages WHERE from_msisdn = ? AND id > ? ORDER BY id LIMIT ?',
  );

  return ({ after: position, from, limit }) =>
    inReadTransaction(db, () => {
      const newest = Number((tail.get() as { id: number }).id);
      if (position === null) return { items: [], position: encodePosition(newest) };
      const start = decodePosition(position);
      const rows = (from === null ? after.all(start, limit) : afterFrom.all(from, start, limit)) as FeedRow[];
      const items = rows.map((row) => ({ position: encodePosition(row.id), message: toMessage(row) }));
      // A full page resumes after its last item; a shorter one has read everything up to the newest
      // id (what the filter skipped included), which the next request need not read again.
      const last = rows.at(-1);
      const next = rows.length === limit && last !== undefined ? last.id : Math.max(start, newest);
      return { items, position: encodePosition(next) };
    });
}

export function encodePosition(id: number): string {
  return Buffer.from(`s1:${id}`).toString('base64url');
}

/** The id a position names; FeedPositionError for anything encodePosition could not have written. */
function decodePosition(position: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(position) ? Buffer.from(position, 'base64url').toString('latin1') : '';
  const match = POSITION.exec(text);
  if (match === null || encodePosition(Number(match[1])) !== position) throw new FeedPositionError();
  return Number(match[1]);
}

function toMessage(row: FeedRow): InboundMessage {
  return { message_id: row.message_id, from: row.from_msisdn, to: row.to_msisdn, ts: row.ts, text: row.text };
}
