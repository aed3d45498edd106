// Keyset-pagination cursors: an opaque token for a place in the listing order (the last row's
// instant key and message_id). It is base64url of the 30-character key followed by the id, and it
// carries no authority: any well-formed position is a legitimate place to start a page, so it
// needs no signature, only strict decoding, so a damaged or foreign token is refused, not guessed.
import { exceedsCodePoints, MAX_MESSAGE_ID_CHARACTERS, normalizeTimestamp } from '../model/message.ts';
import { decodeUtf8 } from '../model/utf8.ts';
import type { ListPosition } from '../store/store.ts';

const TS_KEY_LENGTH = '2025-01-15T10:00:00.000000000Z'.length;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor({ tsKey, messageId }: ListPosition): string {
  return Buffer.from(tsKey + messageId, 'utf8').toString('base64url');
}

/** The position a cursor names, or null for anything encodeCursor could not have produced. */
export function decodeCursor(cursor: string): ListPosition | null {
  if (!BASE64URL.test(cursor)) return null;
  const bytes = Buffer.from(cursor, 'base64url');
  // Buffer skips what it cannot decode; only the canonical encoding of these bytes is accepted.
  if (bytes.toString('base64url') !== cursor) return null;
  const text = decodeUtf8(bytes);
  if (text === null) return null;
  const tsKey = text.slice(0, TS_KEY_LENGTH);
  const messageId = text.slice(TS_KEY_LENGTH);
  // A normalized key is its own normal form; anything else is not a key this service wrote. Nor
  // is an id longer than validation lets one be (counted in code points, as there).
  if (normalizeTimestamp(tsKey) !== tsKey || messageId === '') return null;
  if (exceedsCodePoints(messageId, MAX_MESSAGE_ID_CHARACTERS)) return null;
  return { tsKey, messageId };
}
