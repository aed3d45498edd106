// Feed positions of the PostgreSQL store: an opaque token for a place in commit order (message-feed.ts),
// the transaction id that stored a row and its message_id. It is base64url of "pg1:<txid>:<id>":
// "pg1" names the backend and the format's version, so a position of another backend or of a later
// format is refused, not misread. An empty id means "after every row of transactions before txid":
// the horizon. Like a listing cursor it carries no authority (any well-formed position is a
// legitimate place to resume from), so it needs no signature, only strict decoding.
import { exceedsCodePoints, MAX_MESSAGE_ID_CHARACTERS } from '../../model/message.ts';
import { decodeUtf8 } from '../../model/utf8.ts';

export type FeedPosition = {
  /** A PostgreSQL xid8, as decimal text. */
  txid: string;
  /** The last row delivered, or '' for "before every row of txid". */
  messageId: string;
};

const PREFIX = 'pg1:';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TXID = /^(?:0|[1-9][0-9]{0,19})$/;
const MAX_TXID = 2n ** 64n - 1n;

export function encodeFeedPosition({ txid, messageId }: FeedPosition): string {
  return Buffer.from(`${PREFIX}${txid}:${messageId}`, 'utf8').toString('base64url');
}

/** The position a token names, or null for anything encodeFeedPosition could not have produced. */
export function decodeFeedPosition(token: string): FeedPosition | null {
  if (!BASE64URL.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  // Buffer skips what it cannot decode; only the canonical encoding of these bytes is accepted.
  if (bytes.toString('base64url') !== token) return null;
  const text = decodeUtf8(bytes);
  if (text === null || !text.startsWith(PREFIX)) return null;
  const colon = text.indexOf(':', PREFIX.length);
  if (colon === -1) return null;
  const txid = text.slice(PREFIX.length, colon);
  const messageId = text.slice(colon + 1);
  if (!TXID.test(txid) || BigInt(txid) > MAX_TXID) return null;
  // No stored id holds U+0000 (unstorable-message.ts) or is longer than validation allows.
  if (messageId.includes('\0') || exceedsCodePoints(messageId, MAX_MESSAGE_ID_CHARACTERS)) return null;
  return { txid, messageId };
}

/** Whether position `a` comes after `b` in commit order. */
export function txidAfter(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b);
}
