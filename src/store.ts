// The storage seam. Handlers only see this async interface, so the SQLite implementation can batch
// writes, move them to a worker, or be replaced by another database without touching a route.
import type { InboundMessage } from './validate.ts';

export type InsertResult = 'created' | 'duplicate';

export type StoreSummary = {
  messages: number;
  databaseBytes: number;
  /** Messages stored but not in the search index yet (searches still find them). */
  searchBacklog: number;
};

/** A place in the listing order (instant, then message_id); a page starts just after it. */
export type ListPosition = { tsKey: string; messageId: string };

export type MessageQuery = {
  limit: number;
  offset: number;
  /** Exact sender. */
  from: string | null;
  /** Only messages at or after this instant, as a normalized key (normalizeTimestamp). */
  sinceKey: string | null;
  /** Case-insensitive (A-Z) literal substring of text. */
  q: string | null;
  /** Keyset pagination: start after this position instead of counting `offset` rows. */
  after: ListPosition | null;
};

export type MessagePage = {
  /** Ordered by instant, then message_id; each exactly as it was received. */
  messages: InboundMessage[];
  /** Every message matching the filters, whatever the limit, offset or position. */
  total: number;
  /** Where the next page starts, or null when this page reaches the end. */
  next: ListPosition | null;
};

export type MessageStats = {
  total_messages: number;
  senders_count: number;
  /** The ten busiest senders, by count descending, ties by sender ascending. */
  messages_per_sender: { from: string; count: number }[];
  first_message_ts: string | null;
  last_message_ts: string | null;
};

/**
 * Why a write was not confirmed. queue_full and commit_failed stored nothing of the message;
 * writer_stopped may come after the writer committed it but before it answered. Either way a retry
 * is safe: a retry of a stored message is a duplicate.
 */
export type UnavailableReason = 'queue_full' | 'commit_failed' | 'writer_stopped';

/**
 * The store could not take or confirm the write: the write queue is full, the batch's transaction
 * failed and was rolled back, or the writer has stopped (see UnavailableReason).
 */
export class StoreUnavailableError extends Error {
  readonly reason: UnavailableReason;

  constructor(reason: UnavailableReason) {
    super(`store unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
    this.reason = reason;
  }
}

/** The write queue now, for metrics. */
export type WriteStats = {
  /** Messages waiting to be committed, the batch being committed included. */
  queueDepth: number;
  queueLimit: number;
  /** Writes refused at once because the queue was full, since the store opened. */
  rejectedQueueFull: number;
};

export interface Store {
  /**
   * Resolves only once the message is durably committed ("created") or already stored
   * ("duplicate"). Rejects with StoreUnavailableError when the write cannot happen now.
   */
  insert(message: InboundMessage): Promise<InsertResult>;
  /** One page of messages and the exact count of all that match, read from one snapshot. */
  listMessages(query: MessageQuery): Promise<MessagePage>;
  stats(): Promise<MessageStats>;
  /** True when the database answers a trivial query and writes can be taken; used by readiness. */
  ping(): Promise<boolean>;
  /** How many messages are stored, how large the database is, and how far the search index lags; read by the metrics scrape. */
  summary(): Promise<StoreSummary>;
  /** The write queue's figures; read by the metrics scrape. */
  writeStats(): WriteStats;
  /** Commits everything already queued, then closes the database. */
  close(): Promise<void>;
}
