// The writer alone, without HTTP: how many pages each commit adds to the write-ahead log and what a
// message costs, with the schema as shipped and with the by-sender index dropped, to show where the
// writer's disk work goes (README, "Measured ingest throughput"). Batches of 30 (about what the
// service commits under load) of the ingest bench's traffic, through the service's own batch
// writer, with synchronous=FULL; no checkpoint runs, so the log's growth is what the commits wrote.
// The search index is not written here (it follows in chunks of its own).
//   node scripts/bench-writer.ts [--messages 80000] [--page-size 4096]
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { openSqliteDatabase } from '../src/store/sqlite/open-database.ts';
import { prepareBatchWriter } from '../src/store/sqlite/write-batch.ts';
import { syntheticMessage } from './synthetic-messages.ts';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '80000' }, 'page-size': { type: 'string', default: '4096' } },
});
const total = Number(values.messages);
const pageSize = Number(values['page-size']);
const BATCH = 30;
// The ingest bench's plan: its first 40,000 messages each come from a new sender, then senders repeat.
const plan = { rows: 400_000, senders: 40_000 };
const path = join(new URL('..', import.meta.url).pathname, 'bench-data', 'bench-writer.db');

type Phase = { variant: string; from: number; to: number; pagesPerCommit: number; kibPerCommit: number; microsPerMessage: number };

function measure(variant: string, dropIndex: string | null): Phase[] {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  // A page size holds from the first table on; the service's own files keep SQLite's 4096.
  const blank = new DatabaseSync(path);
  blank.exec(`PRAGMA page_size = ${pageSize}; CREATE TABLE page_size_set (x); DROP TABLE page_size_set;`);
  blank.close();
  const db = openSqliteDatabase(path);
  db.exec('PRAGMA wal_autocheckpoint = 0');
  if (dropIndex !== null) db.exec(`DROP INDEX ${dropIndex}`);
  const pageBytes = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  const writeBatch = prepareBatchWriter(db);
  const phases: Phase[] = [];
  const half = Math.min(plan.senders, total / 2);
  for (const [from, to] of [[0, half], [half, total]] as const) {
    const logBefore = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    let commits = 0;
    const started = performance.now();
    for (let first = from; first < to; first += BATCH) {
      const requests = [];
      for (let i = first; i < Math.min(to, first + BATCH); i++) requests.push({ message: syntheticMessage(i, plan), createdAt: new Date().toISOString() });
      const outcome = writeBatch(requests);
      if (!outcome.ok) throw new Error(`batch failed: ${outcome.code}`);
      commits++;
    }
    const micros = ((performance.now() - started) * 1000) / (to - from);
    // Each page in the log is preceded by a 24-byte frame header.
    const logBytes = statSync(`${path}-wal`).size - logBefore;
    const pages = logBytes / (pageBytes + 24);
    phases.push({ variant, from, to, pagesPerCommit: pages / commits, kibPerCommit: logBytes / commits / 1024, microsPerMessage: micros });
  }
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  return phases;
}

const rows = [...measure('as shipped', null), ...measure('without messages_by_sender', 'messages_by_sender')];
const header = ['variant', 'messages', 'senders', 'log pages per commit', 'log KB per commit', 'µs per message'];
const lines = rows.map((row) => [
  row.variant,
  `${row.from}-${row.to}`,
  row.from < plan.senders ? 'new' : 'repeating',
  row.pagesPerCommit.toFixed(1),
  row.kibPerCommit.toFixed(0),
  row.microsPerMessage.toFixed(1),
]);
const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] as string).length)));
process.stdout.write(`batches of ${BATCH}, ${pageSize}-byte pages, synchronous=FULL, no checkpoints\n`);
process.stdout.write([header, ...lines].map((line) => line.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ')).join('\n') + '\n');
