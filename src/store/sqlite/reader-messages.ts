// What the main thread and a reader thread say to each other (read-pool.ts and read-worker.ts):
// plain data, so it crosses the thread boundary by structured clone. Failures carry codes only:
// error messages may quote SQL or data and never leave the thread.
import type { FeedPage, FeedRequest, MessagePage, MessageQuery, MessageStats } from '../store.ts';

export type ReadRequest = { kind: 'list'; query: MessageQuery } | { kind: 'stats' } | { kind: 'feed'; request: FeedRequest };

export type ReadValue = MessagePage | MessageStats | FeedPage;

export type ToReader = { kind: 'read'; id: number; deadline: number; request: ReadRequest };

/** Why a read failed in the thread: past its deadline, a feed position never issued, or an error (its SQLite code). */
export type ReadFailure = { reason: 'read_timeout' } | { reason: 'feed_position' } | { reason: 'error'; code: string };

export type FromReader =
  | { kind: 'ready' }
  | { kind: 'failed'; code: string | undefined }
  | { kind: 'answer'; id: number; cpuMs: number; outcome: { ok: true; value: ReadValue } | ({ ok: false } & ReadFailure) };
