// Cuts the server's byte stream into messages: a type byte, an Int32 length that counts itself,
// then the body. Chunks arrive in any sizes, so a message can span several chunks and one chunk can
// hold several messages. A length is checked as soon as its 5-byte header is in, before any of the
// body is waited for: below 4 is a protocol violation, above the limit is refused at once, so a
// server (or anyone in the middle of a cleartext connection) cannot make us hold more than one
// message of at most `maxMessageBytes` plus the chunk being read.
import { PgClientError } from './pg-client-error.ts';

export type BackendMessage = {
  /** The type byte as a character: 'R', 'Z', 'D'... */
  readonly type: string;
  readonly body: Buffer;
};

export type MessageReader = {
  /** Takes the next chunk; returns the messages it completes. Throws PgClientError on a bad length. */
  push(chunk: Buffer): BackendMessage[];
  /** Bytes received and not yet part of a returned message. */
  buffered(): number;
};

export function createMessageReader(maxMessageBytes: number): MessageReader {
  let chunks: Buffer[] = [];
  let buffered = 0;

  /** Removes the first `count` bytes (all received) from the chunks and returns them. */
  function take(count: number): Buffer {
    const first = chunks[0] as Buffer;
    if (first.length >= count) {
      // A view, not a copy: decoders turn what they keep into strings, so the chunk is not held.
      const taken = first.subarray(0, count);
      if (first.length === count) chunks.shift();
      else chunks[0] = first.subarray(count);
      buffered -= count;
      return taken;
    }
    const whole = Buffer.concat(chunks, buffered);
    chunks = whole.length > count ? [whole.subarray(count)] : [];
    buffered -= count;
    return whole.subarray(0, count);
  }

  return {
    push(chunk) {
      if (chunk.length > 0) {
        chunks.push(chunk);
        buffered += chunk.length;
      }
      const messages: BackendMessage[] = [];
      while (buffered >= 5) {
        const head = (chunks[0] as Buffer).length >= 5 ? (chunks[0] as Buffer) : Buffer.concat(chunks, 5);
        const length = head.readInt32BE(1);
        if (length < 4) throw new PgClientError('protocol_violation', 'a message length below 4');
        if (length > maxMessageBytes) throw new PgClientError('message_too_large');
        if (buffered < length + 1) break;
        const message = take(length + 1);
        messages.push({ type: String.fromCharCode(message[0] as number), body: message.subarray(5) });
      }
      return messages;
    },
    buffered: () => buffered,
  };
}
