// Tombstones of erased and expired ids (migration 5), so a provider's redelivery is acknowledged and
// not stored again: Meta retries for up to 7 days. Only a keyed hash of each id is kept, HMAC-SHA256
// under a random key made once per database (settings.tombstone_key): the table does not list the
// ids themselves. Tombstones older than the configured period are purged. The count is kept in
// message_totals, so the writer checks the table only while it holds any.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';

export type Tombstones = {
  /** Whether `messageId` was erased within the tombstone period. */
  holds(messageId: string): boolean;
  /** Reads the count again; the eraser calls it after each of its transactions, committed or not. */
  refresh(): void;
  /** Records `messageId` as erased at `erasedAt` (call inside the erasure's transaction, then settle()). */
  add(messageId: string, erasedAt: string): void;
  /** Adds the tombstones made since the last call to the stored count (in the same transaction). */
  settle(): void;
  /** Deletes up to `limit` tombstones made before `cutoff`; returns how many. */
  purgeBefore(cutoff: string, limit: number): number;
};

export function prepareTombstones(db: DatabaseSync): Tombstones {
  const { value } = db.prepare("SELECT value FROM settings WHERE name = 'tombstone_key'").get() as { value: Uint8Array };
  const key: KeyObject = createSecretKey(value);
  const hash = (messageId: string) => createHmac('sha256', key).update(messageId, 'utf8').digest();
  const count = db.prepare('SELECT tombstone_count AS n FROM message_totals WHERE id = 1');
  const find = db.prepare('SELECT 1 AS found FROM erased_ids WHERE id_hash = ?');
  // A second erasure of the same id moves its time forward, so the tombstone lasts a full period.
  const insert = db.prepare(
    'INSERT INTO erased_ids (id_hash, erased_at) VALUES (?, ?) ON CONFLICT (id_hash) DO UPDATE SET erased_at = excluded.erased_at',
  );
  const purge = db.prepare(
    'DELETE FROM erased_ids WHERE id_hash IN (SELECT id_hash FROM erased_ids WHERE erased_at < ? ORDER BY erased_at LIMIT ?)',
  );
  const store = db.prepare('UPDATE message_totals SET tombstone_count = tombstone_count + ? WHERE id = 1');
  const held = () => (count.get() as { n: number }).n;
  // Kept here so that the writer, while no tombstone exists, pays nothing per message. Only this
  // connection changes the table, and the eraser refreshes it after every transaction.
  let any = held() > 0;
  // Tombstones made in the current transaction, counted once at its end.
  let made = 0;

  return {
    holds: (messageId) => any && find.get(hash(messageId)) !== undefined,
    refresh() {
      any = held() > 0;
      made = 0;
    },
    add(messageId, erasedAt) {
      const idHash = hash(messageId);
      if (find.get(idHash) === undefined) made++;
      insert.run(idHash, erasedAt);
    },
    settle() {
      if (made > 0) store.run(made);
      made = 0;
    },
    purgeBefore(cutoff, limit) {
      const purged = Number(purge.run(cutoff, limit).changes);
      if (purged > 0) store.run(-purged);
      return purged;
    },
  };
}
