// What PostgreSQL cannot store as the API received it. Its text type cannot hold U+0000 (NUL), which
// JSON can carry (\u0000) and validation lets through in message_id and text. Storing an altered
// id or text would break "exactly as it was received" and could merge two ids into one, so such a
// message is refused instead, before anything of its request is queued: nothing of it is stored,
// and a retry fails the same way. Sender and recipient cannot hold one (E.164), nor can ts.
import { normalizeTimestamp, type InboundMessage } from '../../model/message.ts';

export class UnstorableMessageError extends Error {
  readonly reason: 'nul_character' | 'invalid_timestamp';

  constructor(reason: 'nul_character' | 'invalid_timestamp') {
    super(reason === 'nul_character' ? 'a message holds U+0000, which PostgreSQL text cannot store' : 'a message ts was not validated');
    this.name = 'UnstorableMessageError';
    this.reason = reason;
  }
}

/** Why this store cannot take `message`, or null when it can. */
export function unstorable(message: InboundMessage): UnstorableMessageError | null {
  if (message.message_id.includes('\0') || (message.text?.includes('\0') ?? false)) return new UnstorableMessageError('nul_character');
  // Validation guarantees a valid ts; a row without a sort key would silently mis-order.
  if (normalizeTimestamp(message.ts) === null) return new UnstorableMessageError('invalid_timestamp');
  return null;
}
