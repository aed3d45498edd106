// An online backup: `node src/backup.ts <destination file>` writes a consistent snapshot of the
// SQLite database DATABASE_URL names, while the service runs, through SQLite's backup API, then
// checks the copy and prints one JSON line. An entry point of its own, like healthcheck.ts, so the
// image runs it: `docker compose exec api /nodejs/bin/node /app/src/backup.ts /data/backup.db`.
//
// The whole database is copied in one step, inside one read transaction: a copy made in several
// steps starts over whenever another connection commits, which under steady ingest is always. In
// write-ahead-log mode a reader never blocks the writer, so ingest goes on meanwhile.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { backup, DatabaseSync } from 'node:sqlite';
import { loadConfig } from './config/config.ts';
import { PRIVATE_FILE_MODE } from './store/sqlite/open-database.ts';

const ALL_PAGES_AT_ONCE = 2 ** 31 - 1;

function say(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), ...fields })}\n`);
}

function fail(msg: string, code = 1): never {
  say({ level: 'ERROR', msg });
  process.exit(code);
}

const destination = process.argv[2];
if (destination === undefined || process.argv.length !== 3) fail('usage: node src/backup.ts <destination file>', 2);
const loaded = loadConfig(process.env, (path) => readFileSync(path, 'utf8'));
if (!loaded.ok) fail(`invalid configuration: ${loaded.error}`, 2);
const { database } = loaded.value;
if (database.kind === 'postgres') fail('DATABASE_URL names PostgreSQL: back it up with pg_dump or your provider\'s backups', 2);
if (database.path === ':memory:') fail('DATABASE_URL names an in-memory database: there is nothing to back up', 2);

// The copy holds the same personal data: readable by its owner alone, and never over another file.
try {
  closeSync(openSync(destination, 'wx', PRIVATE_FILE_MODE));
} catch (error) {
  fail((error as NodeJS.ErrnoException).code === 'EEXIST' ? 'the destination exists already: name a new file' : 'cannot create the destination file');
}

const started = performance.now();
try {
  const source = new DatabaseSync(database.path, { readOnly: true, timeout: 5_000 });
  const pages = await backup(source, destination, { rate: ALL_PAGES_AT_ONCE });
  source.close();
  const copy = new DatabaseSync(destination, { readOnly: true });
  const check = (copy.prepare('PRAGMA quick_check').get() as { quick_check: string }).quick_check;
  const { messages } = copy.prepare('SELECT count(*) AS messages FROM messages').get() as { messages: number };
  copy.close();
  if (check !== 'ok') throw Object.assign(new Error('the copy fails its check'), { code: 'CHECK_FAILED' });
  say({ level: 'INFO', msg: 'backup written', path: destination, pages, messages, seconds: Math.round(performance.now() - started) / 1000 });
} catch (error) {
  rmSync(destination, { force: true });
  // The code is enough to act on; a message may quote SQL.
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  say({ level: 'ERROR', msg: 'backup failed; nothing was written', code });
  process.exit(1);
}
