// The /webhook traffic of the bench and the databases it starts from. Bodies are the read
// benchmark's synthetic messages (scripts/synthetic-messages.ts), each with an id of the run, all
// signed before the timed phase. Seeded databases go through the service's own message writer and
// are cached in bench-data/: the cache name hashes the schema and the writers, so a change to any of
// them seeds afresh.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { signBody } from '../../src/ingest/schemes/x-signature.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { seedDatabase, syntheticMessage, type CreatedAt, type SeedPlan } from '../synthetic-messages.ts';
import type { Signed } from './load.ts';
import { DATA, ROOT } from './servers.ts';

export const WEBHOOK_SECRET = 'bench-secret-0123456789abcdef0123456789';
/** Bodies signed per measurement; a run that sends them all stops early (and says so). */
export const POOL_SIZE = 400_000;
/** Live traffic is stamped now: after everything seeded, a few milliseconds apart. */
const LIVE_START = Date.UTC(2025, 6, 1);

/** The read benchmark's synthetic traffic: 10 messages a sender. */
export const planFor = (rows: number): SeedPlan => ({ rows, senders: Math.max(1, Math.floor(rows / 10)) });

/** Signed requests; with `halfDuplicates` every other one repeats an earlier message exactly. */
export function signedRequests(prefix: string, count: number, halfDuplicates: boolean): Signed[] {
  const requests: Signed[] = [];
  const unique: Signed[] = [];
  const plan = planFor(count);
  for (let i = 0; i < count; i++) {
    if (halfDuplicates && i % 2 === 1) {
      requests.push(unique[Math.floor(Math.random() * unique.length)] as Signed);
      continue;
    }
    const ts = new Date(LIVE_START + i * 7).toISOString();
    const body = Buffer.from(JSON.stringify({ ...syntheticMessage(i, plan), message_id: `${prefix}-${i}`, ts }));
    const signed = { body, signature: signBody(WEBHOOK_SECRET, body) };
    unique.push(signed);
    requests.push(signed);
  }
  return requests;
}

/** A database holding `rows` messages, all received at seeding time; it replaces one made by other writers. */
export function seededDatabase(rows: number): string {
  return cachedSeed(`ingest-seed-${rows}`, rows, undefined, `ingest-seed-${rows}-`);
}

/**
 * A cached seed named `${stem}-${hash}.db`. `createdAt` stamps each message's arrival (seeding time
 * when not given). Cached seeds whose name starts with `replaces` are removed before a new one is
 * made: stale copies (older writers, earlier days) would otherwise pile up, hundreds of MB each.
 */
export function cachedSeed(stem: string, rows: number, createdAt?: CreatedAt, replaces?: string): string {
  const key = createHash('sha256')
    .update(MIGRATIONS.join('\n'))
    .update(readFileSync(join(ROOT, 'src/store/sqlite/message-writer.ts')))
    .update(readFileSync(join(ROOT, 'src/store/sqlite/search-index.ts')))
    .digest('hex')
    .slice(0, 12);
  const path = join(DATA, `${stem}-${key}.db`);
  if (existsSync(path)) return path;
  if (replaces !== undefined) {
    for (const file of readdirSync(DATA)) if (file.startsWith(replaces) && file.endsWith('.db')) removeDatabase(join(DATA, file));
  }
  const partial = `${path}.partial`;
  removeDatabase(partial);
  process.stderr.write(`seeding ${rows} messages into ${path} (once; later runs reuse it)\n`);
  seedDatabase(partial, planFor(rows), undefined, undefined, createdAt);
  renameSync(partial, path);
  return path;
}

/** A SQLite database file and its WAL companions. */
export function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}
