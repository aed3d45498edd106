// Synthetic traffic for benchmarks and demos: message number i is a pure function of i and the
// plan, so every run (and every database size) agrees on what the data holds and which queries
// to ask. Seeding goes through the service's own writer, inside batched transactions.
import { DatabaseSync } from 'node:sqlite';
import { prepareMessageWriter } from '../src/store/sqlite/message-writer.ts';
import { prepareSearchIndexer } from '../src/store/sqlite/search-index.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-database.ts';
import { inWriteTransaction } from '../src/store/sqlite/transaction.ts';
import type { InboundMessage } from '../src/model/message.ts';

export type SeedPlan = { rows: number; senders: number };

/** A word in exactly 10 messages of any database (for 10 rows or more), in mixed case. */
export const RARE_WORD = 'Zanzibar';
const SPAN_START = Date.UTC(2025, 0, 1);
const SPAN_DAYS = 180;
const SPAN_MS = SPAN_DAYS * 24 * 3600 * 1000;
const NULL_TEXT_SHARE = 0.03;
const BUSINESS_NUMBERS = ['+14155550100', '+14155550101', '+14155550102', '+442071838750', '+918041234567'];
const WORDS = (
  'hi hello ok okay thanks thank you please yes no sure see soon today tomorrow tonight morning ' +
  'evening call me when are is was will be the a an to for of on in at with from your my our order ' +
  'delivery payment received sent invoice price offer sale discount code ticket booking confirmed ' +
  'cancelled refund status update shipped arriving address pincode city store open closed hours ' +
  'menu table reservation doctor appointment reminder meeting office home family great good nice ' +
  'problem issue help support agent number account balance otp verify link photo video voice note ' +
  'happy birthday congratulations welcome sorry late traffic running minutes coming leaving reached'
).split(' ');

/** The sender number of sender k (0-based): distinct for every k below a billion. */
export function senderNumber(k: number): string {
  return `+91${7_000_000_000 + k}`;
}

/** The message numbered i (0-based). Arrival order is i; ts drifts up to a minute either way. */
export function syntheticMessage(i: number, plan: SeedPlan): InboundMessage {
  const random = randomStream(i);
  // Every sender appears once, then a skewed few send most, as real traffic does.
  const sender = i < plan.senders ? i : Math.floor(plan.senders * random() ** 4);
  const instant = SPAN_START + Math.floor((i / plan.rows) * SPAN_MS) + Math.floor((random() - 0.5) * 120_000);
  const iso = new Date(Math.max(SPAN_START, instant)).toISOString(); // 2025-01-01T00:00:00.000Z
  const ts = [iso.replace(/\.\d{3}Z$/, 'Z'), iso, iso.replace(/Z$/, '417Z')][i % 3] as string;

  let text: string | null = null;
  if (random() >= NULL_TEXT_SHARE) {
    const words = Array.from({ length: 3 + Math.floor(random() * 22) }, () => WORDS[Math.floor(random() * WORDS.length)]);
    if (i % Math.max(1, Math.floor(plan.rows / 10)) === 7) words.splice(1, 0, RARE_WORD);
    const sentence = words.join(' ');
    text = sentence.charAt(0).toUpperCase() + sentence.slice(1);
  }
  return {
    message_id: `seed-${String(i).padStart(9, '0')}`,
    from: senderNumber(sender),
    to: BUSINESS_NUMBERS[i % BUSINESS_NUMBERS.length] as string,
    ts,
    text,
  };
}

export type SeedResult = { created: number; duplicates: number; seconds: number };

/**
 * When message i was received (`created_at`, which retention reads), as an ISO instant; by default
 * the moment its batch is written, as the service would have stamped it.
 */
export type CreatedAt = (i: number) => string;

/** Writes messages 0..rows-1 into the database file, `batch` per transaction, and indexes them. Idempotent. */
export function seedDatabase(
  path: string, plan: SeedPlan, batch = 10_000, onBatch?: (done: number) => void, createdAt?: CreatedAt,
): SeedResult {
  const db = openSqliteDatabase(path);
  try {
    const write = prepareMessageWriter(db);
    const searchIndex = prepareSearchIndexer(db);
    const started = performance.now();
    let created = 0;
    for (let first = 0; first < plan.rows; first += batch) {
      const last = Math.min(plan.rows, first + batch);
      const batchAt = new Date().toISOString();
      inWriteTransaction(db, () => {
        for (let i = first; i < last; i++) if (write(syntheticMessage(i, plan), createdAt?.(i) ?? batchAt) === 'created') created++;
      });
      searchIndex.indexNext(batch);
      onBatch?.(last);
    }
    return { created, duplicates: plan.rows - created, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

/** How many messages the database file holds (0 when it does not exist yet or predates them). */
export function countMessages(path: string): number {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare('SELECT message_count FROM message_totals').get() as { message_count: number }).message_count;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** A deterministic stream of numbers in [0, 1) for message i (mulberry32 seeded from i). */
function randomStream(i: number): () => number {
  let state = (Math.imul(i + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
