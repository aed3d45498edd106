// One strict UTF-8 decoder for every byte sequence that becomes text: webhook bodies and cursors.
//
// fatal: bytes that are not UTF-8 are refused, never replaced with U+FFFD, which would let two
// different ids become one and change a text on the way in. ignoreBOM keeps a byte-order mark in
// the text, where neither JSON.parse nor a cursor's key accepts it.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, exactly; null when they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
