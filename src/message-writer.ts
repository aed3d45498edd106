// The single place where one message is written to SQLite. Whatever else must change with a new
// message (search index, statistics) changes here, inside the caller's transaction, so every
// write path (one at a time, batched, or in a worker) stays identical.
import type { DatabaseSync } from 'node:sqlite';
import type { InsertResult } from './store.ts';
import type { InboundMessage } from './validate.ts';

export type MessageWriter = (message: InboundMessage, createdAt: string) => InsertResult;

export function prepareMessageWriter(db: DatabaseSync): MessageWriter {
  // ON CONFLICT DO NOTHING makes the primary key the single arbiter of "exactly once": concurrent
  // duplicates cannot both insert, and `changes` tells the caller which one won.
  const insertMessage = db.prepare(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
  );
  return (message, createdAt) => {
    const { changes } = insertMessage.run(message.message_id, message.from, message.to, message.ts, message.text, createdAt);
    return Number(changes) === 1 ? 'created' : 'duplicate';
  };
}
