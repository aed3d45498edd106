// The key of the tombstones. An erased message leaves a tombstone so that a late re-delivery of it
// is answered 'erased' instead of being stored again; the tombstone must not keep the id itself
// (ids can be personal data: a phone number and a date, say), so it keeps HMAC-SHA256 of the id.
// Keyed, because a plain hash of a guessable id is as good as the id. The key is random, made once
// by whichever replica opens the database first, and kept in the database so every replica hashes
// alike. Whoever can read the database can read the key too: the tombstones hide erased ids from
// someone who sees a dump of that table, not from the database's administrators.
import { createHmac, randomBytes } from 'node:crypto';
import type { PgConnection } from './wire/client.ts';

/** HMAC-SHA256 of a message_id's UTF-8 bytes: 32 bytes. */
export type KeyedHash = (messageId: string) => Buffer;

const KEY_BYTES = 32;

/** Creates the key if the database has none yet, and returns the hash made with the one it holds. */
export async function loadTombstoneKey(connection: PgConnection): Promise<KeyedHash> {
  await connection.query(
    "INSERT INTO store_secrets (id, tombstone_key) VALUES (1, decode($1, 'hex')) ON CONFLICT (id) DO NOTHING",
    [randomBytes(KEY_BYTES).toString('hex')],
  );
  const stored = (await connection.query("SELECT encode(tombstone_key, 'hex') FROM store_secrets WHERE id = 1")).rows[0]?.[0];
  if (typeof stored !== 'string' || stored.length !== KEY_BYTES * 2) throw new Error('the tombstone key is missing');
  const key = Buffer.from(stored, 'hex');
  return (messageId) => createHmac('sha256', key).update(messageId, 'utf8').digest();
}

/** A hash as an element of a bytea[] parameter (hex input format). */
export function byteaText(bytes: Buffer): string {
  return `\\x${bytes.toString('hex')}`;
}
