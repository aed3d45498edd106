// The advisory locks the PostgreSQL store takes. Advisory locks belong to the whole database, not
// to a schema, so each key carries a number derived from the schema the store lives in: two
// deployments (or two test runs) in one database, each in its own schema, never wait on each other.
// The first key is that number, the second says what the lock guards.
import { createHash } from 'node:crypto';

/** Two int4 keys, as `pg_advisory_lock(int, int)` takes them, formatted as SQL parameters. */
export type LockKey = readonly [string, string];

export type LockKeys = {
  /** Held (per transaction) while migrations run, so replicas starting together migrate once. */
  migrate: LockKey;
  /** Tried (per transaction) by each retention batch: one replica purges at a time. */
  retention: LockKey;
  /**
   * The erasure gate: every write batch holds it shared, every erasure (by request or retention)
   * exclusively. See eraser.ts for why an erasure must not overlap a write of the same id.
   */
  erasureGate: LockKey;
};

const PURPOSE = { migrate: 1, retention: 2, erasureGate: 3 } as const;

export function lockKeys(schema: string): LockKeys {
  // Any 32 bits of a hash will do: a collision between two schemas only makes them share locks.
  const scope = String(createHash('sha256').update(`webhook-ingest:${schema}`, 'utf8').digest().readInt32BE(0));
  return {
    migrate: [scope, String(PURPOSE.migrate)],
    retention: [scope, String(PURPOSE.retention)],
    erasureGate: [scope, String(PURPOSE.erasureGate)],
  };
}
