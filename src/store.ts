// The storage seam. Handlers only see this async interface, so the SQLite implementation can batch
// writes, move them to a worker, or be replaced by another database without touching a route.
import type { InboundMessage } from './validate.ts';

export type InsertResult = 'created' | 'duplicate';

export type StoreSummary = { messages: number; databaseBytes: number };

export interface Store {
  /** Resolves only once the message is durably committed ("created") or already stored ("duplicate"). */
  insert(message: InboundMessage): Promise<InsertResult>;
  /** True when the database answers a trivial query; used by the readiness probe. */
  ping(): Promise<boolean>;
  /** How many messages are stored and how large the database is; read by the metrics scrape. */
  summary(): Promise<StoreSummary>;
  close(): Promise<void>;
}
