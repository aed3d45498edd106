// The reader of the SQLite store: reader threads (read-pool.ts) for a database file, so that no read
// runs on the event loop that serves webhooks; for `:memory:`, which no other connection can see,
// the same queries on the store's own connection, bounded by the same deadline.
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../../observability/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { ReadUnavailableError, type FeedPage, type MessagePage, type MessageReader, type MessageStats } from '../store.ts';
import { prepareFeedQueries } from './feed-queries.ts';
import { prepareMessageQueries } from './message-queries.ts';
import { createReadClock, ReadDeadlineExceeded } from './read-clock.ts';
import { startReadPool } from './read-pool.ts';
import type { ReadRequest, ReadValue } from './reader-messages.ts';

export type SqliteReaderOptions = { path: string; db: DatabaseSync; threads: number; cpuShare?: number; log?: Logger; metrics?: Metrics };

export async function openSqliteReader({ path, db, threads, cpuShare, log, metrics }: SqliteReaderOptions): Promise<{ reader: MessageReader; close: () => Promise<void> }> {
  const run = path === ':memory:' ? inlineRun(db) : await poolRun({ path, threads, cpuShare, log, metrics });
  const reader: MessageReader = {
    listMessages: async (query, { deadline }) => (await run.read({ kind: 'list', query }, deadline)) as MessagePage,
    stats: async ({ deadline }) => (await run.read({ kind: 'stats' }, deadline)) as MessageStats,
    feed: async (request, { deadline }) => (await run.read({ kind: 'feed', request }, deadline)) as FeedPage,
  };
  return { reader, close: run.close };
}

type Run = { read(request: ReadRequest, deadline: number): Promise<ReadValue>; close(): Promise<void> };

async function poolRun(options: { path: string; threads: number; cpuShare?: number; log?: Logger; metrics?: Metrics }): Promise<Run> {
  const pool = await startReadPool(options);
  return { read: pool.run, close: pool.close };
}

function inlineRun(db: DatabaseSync): Run {
  const clock = createReadClock();
  const queries = prepareMessageQueries(db, clock.tick);
  const feed = prepareFeedQueries(db);
  return {
    async read(request, deadline) {
      clock.start(deadline);
      try {
        if (request.kind === 'list') return queries.listMessages(request.query);
        if (request.kind === 'stats') return queries.stats();
        return feed(request.request);
      } catch (error) {
        if (error instanceof ReadDeadlineExceeded) throw new ReadUnavailableError('read_timeout');
        throw error;
      }
    },
    close: async () => {},
  };
}
