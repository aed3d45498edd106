// GET /stats on PostgreSQL: the maintained counters and two index lookups, from one snapshot, never
// a walk of the messages. Totals are the sum of the shards (migrations.ts); the ten busiest senders
// come from the index of sender_counts by count, ties by sender in byte order (COLLATE "C"), as
// SQLite orders them; first and last instants from the listing index.
import type { MessageStats } from '../store.ts';
import type { Snapshot } from './read-snapshot.ts';

/** How many senders /stats ranks. */
const TOP_SENDERS = 10;

const TOTALS = `
SELECT coalesce(sum(message_count), 0), coalesce(sum(sender_count), 0),
       (SELECT ts FROM messages ORDER BY ts_key, message_id LIMIT 1),
       (SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1)
FROM message_totals`;

const TOP = `SELECT from_msisdn, message_count FROM sender_counts ORDER BY message_count DESC, from_msisdn LIMIT ${TOP_SENDERS}`;

export async function readStats(snapshot: Snapshot): Promise<MessageStats> {
  const [totals, top] = await snapshot.pipeline([{ sql: TOTALS }, { sql: TOP }]);
  const [messages, senders, first, last] = totals?.rows[0] ?? [];
  return {
    total_messages: Number(messages ?? 0),
    senders_count: Number(senders ?? 0),
    messages_per_sender: (top?.rows ?? []).map(([from, count]) => ({ from: from as string, count: Number(count) })),
    first_message_ts: first ?? null,
    last_message_ts: last ?? null,
  };
}
