// A bound on the size of every listing page, whatever its messages hold: a page of 100 texts of
// 4,096 control characters is 2.4 MB of JSON (each escaped as \u00XX), which a client that stops
// reading would leave queued in memory. Every backend cuts its pages here, the same way.
import type { InboundMessage } from '../model/message.ts';

/**
 * The longest prefix of `messages` whose JSON array fits in `maxBytes`, and never fewer than one
 * message (a single message is at most a few tens of kilobytes, far below any budget allowed).
 */
export function fitPage(messages: readonly InboundMessage[], maxBytes: number): readonly InboundMessage[] {
  // The brackets of the array.
  let bytes = 2;
  for (const [index, message] of messages.entries()) {
    // Each message, and the comma before every one but the first.
    bytes += Buffer.byteLength(JSON.stringify(message)) + (index === 0 ? 0 : 1);
    if (bytes > maxBytes && index > 0) return messages.slice(0, index);
  }
  return messages;
}
