// The storage contracts. A backend implements three small interfaces, and each route factory is given
// only the one it needs: the ingest routes a sink (they can write, never read), the read routes a
// reader (they can read, never write), the probes a lifecycle. A new backend is a folder beside
// sqlite/ that implements them; nothing above this file knows which one runs.
import type { InboundMessage } from '../model/message.ts';

export type InsertResult = 'created' | 'duplicate';

/** Where messages go. */
export interface MessageSink {
  /**
   * Stores each message exactly once and resolves with one result per message, in order, only once
   * every one of them is durable ("created") or was already stored ("duplicate"). Rejects with
   * StoreUnavailableError when the write cannot happen or be confirmed now (a retry is safe: a
   * message already stored is a duplicate); with any other error when a message could not be stored.
   */
  insertMany(messages: readonly InboundMessage[]): Promise<InsertResult[]>;
}

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

/** What the read routes may ask; nothing here writes. */
export interface MessageReader {
  /** One page of messages and the exact count of all that match, read from one snapshot. */
  listMessages(query: MessageQuery): Promise<MessagePage>;
  stats(): Promise<MessageStats>;
}

/** The store as a running component: readiness and shutdown. */
export interface StoreLifecycle {
  /** True when the database answers a query that reads it and writes can be taken; used by readiness. */
  ping(): Promise<boolean>;
  /** Commits everything already queued, then closes the database. */
  close(): Promise<void>;
}

/** A whole backend, as the entry point opens it: three separate objects, handed out separately. */
export type Store = { sink: MessageSink; reader: MessageReader; lifecycle: StoreLifecycle };

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
