// The storage contracts. A backend implements four small interfaces, and each route factory is given
// only the one it needs: the ingest routes a sink (they can write, never read), the read routes a
// reader (they can read, never write), the erasure routes an eraser, the probes a lifecycle. A new
// backend is a folder beside sqlite/ that implements them; nothing above this file knows which runs.
import type { InboundMessage } from '../model/message.ts';

/**
 * What became of one message: stored now, already stored, or erased (by request or by retention)
 * within the tombstone period, so acknowledged and never stored again.
 */
export type InsertResult = 'created' | 'duplicate' | 'erased';

/** Where messages go. */
export interface MessageSink {
  /**
   * Stores each message exactly once and resolves with one result per message, in order, only once
   * every one of them is durable or known not to need storing. Rejects with StoreUnavailableError
   * when the write cannot happen or be confirmed now (a retry is safe: a message already stored is
   * a duplicate); with any other error when a message could not be stored.
   */
  insertMany(messages: readonly InboundMessage[]): Promise<InsertResult[]>;
  /**
   * The field of a valid message that this backend cannot store exactly as received, or null. The
   * ingest routes ask before insertMany and refuse such a message as invalid (422, or skipped in a
   * batch). SQLite stores every valid message; PostgreSQL's text cannot hold U+0000.
   */
  unstorableField(message: InboundMessage): 'message_id' | 'text' | null;
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
  /** Case-insensitive (A-Z only) literal substring of text. */
  q: string | null;
  /** Keyset pagination: start after this position instead of counting `offset` rows. */
  after: ListPosition | null;
  /**
   * Most bytes the page's messages may take as JSON (page-fit.ts): a page that would be larger
   * holds fewer messages, at least one, and says where the next starts.
   */
  maxBytes: number;
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

/** What bounds one read. */
export type ReadOptions = {
  /** Milliseconds since the Unix epoch after which the read is abandoned (ReadUnavailableError). */
  deadline: number;
};

export type FeedRequest = {
  /**
   * An opaque position a previous feed page returned: the page holds what was stored after it. Null
   * asks for no messages, only the position of the newest stored now, to follow from there.
   */
  after: string | null;
  /** Exact sender, as in listings; messages of other senders are skipped, not returned. */
  from: string | null;
  limit: number;
};

export type FeedPage = {
  /** In storage order; each with the position to resume after it. */
  items: { position: string; message: InboundMessage }[];
  /** Where the next request resumes: after the last item, or past what the filter skipped. */
  position: string;
};

/** What the read routes may ask; nothing here writes. */
export interface MessageReader {
  /** One page of messages and the exact count of all that match, read from one snapshot. */
  listMessages(query: MessageQuery, options: ReadOptions): Promise<MessagePage>;
  stats(options: ReadOptions): Promise<MessageStats>;
  /**
   * Messages in the order they were stored (committed), after a position: a consumer that resumes
   * from the last position it saw gets every message stored since, none twice, none missing.
   * Rejects with FeedPositionError for a position this backend never returned.
   */
  feed(request: FeedRequest, options: ReadOptions): Promise<FeedPage>;
}

/** Erasure of personal data on request. Every erased id leaves a tombstone (InsertResult 'erased'). */
export interface MessageEraser {
  /** Erases one message; resolves with how many were erased (0 or 1). */
  eraseMessage(messageId: string): Promise<number>;
  /** Erases every message of one sender; resolves with how many were erased. */
  eraseSender(from: string): Promise<number>;
}

/** The store as a running component: readiness and shutdown. */
export interface StoreLifecycle {
  /** True when the database answers a query that reads it and writes can be taken; used by readiness. */
  ping(): Promise<boolean>;
  /** Commits everything already queued, stops background work (retention), then closes. */
  close(): Promise<void>;
}

/** A whole backend, as the entry point opens it: separate objects, handed out separately. */
export type Store = { sink: MessageSink; reader: MessageReader; eraser: MessageEraser; lifecycle: StoreLifecycle };

/**
 * Why a write was not confirmed. queue_full and commit_failed stored nothing of the message;
 * writer_stopped and connection_lost may come after the commit but before its confirmation.
 * Either way a retry is safe: a retry of a stored message is a duplicate.
 */
export type UnavailableReason = 'queue_full' | 'commit_failed' | 'writer_stopped' | 'connection_lost';

/** The store could not take or confirm the write (see UnavailableReason). */
export class StoreUnavailableError extends Error {
  readonly reason: UnavailableReason;

  constructor(reason: UnavailableReason) {
    super(`store unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
    this.reason = reason;
  }
}

/**
 * Why a read was not answered: its deadline passed (read_timeout), too many reads were running and
 * waiting already (read_busy), the database could not be reached (read_unavailable), or answers
 * not yet taken by their clients hold the memory a page would need (answer_budget).
 */
export type ReadRefusal = 'read_timeout' | 'read_busy' | 'read_unavailable' | 'answer_budget';

export class ReadUnavailableError extends Error {
  readonly reason: ReadRefusal;

  constructor(reason: ReadRefusal) {
    super(`read unavailable: ${reason}`);
    this.name = 'ReadUnavailableError';
    this.reason = reason;
  }
}

/**
 * A read the database failed (not refused: see ReadUnavailableError), answered as an internal
 * error. `code` is the backend's code for it (SQLite's result code, a SQLSTATE, or the PostgreSQL
 * client's own), never the database's message, which may quote SQL, names or data.
 */
export class ReadFailedError extends Error {
  readonly code: string;

  constructor(code: string) {
    super('the read failed');
    this.name = 'ReadFailedError';
    this.code = code;
  }
}

/**
 * A message the backend refused while the rest of its batch was stored (a constraint, a trigger, a
 * value it cannot hold). `code` is the backend's code (SQLite's result code or a SQLSTATE), never
 * the database's message.
 */
export class MessageWriteError extends Error {
  readonly code: string;

  constructor(code: string) {
    super('the message could not be written');
    this.name = 'MessageWriteError';
    this.code = code;
  }
}

/** A feed position that this backend did not write: damaged, foreign, or from another backend. */
export class FeedPositionError extends Error {
  constructor() {
    super('not a feed position of this store');
    this.name = 'FeedPositionError';
  }
}
