// The `q` filter's meaning, as a function: a literal substring of the text, case-insensitive for
// A to Z only (as SQLite's lower() folds, which the listings use), never matching a null text. The
// message stream applies it in memory, so it filters exactly as /messages does.

const asciiLower = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());

export function textMatches(text: string | null, q: string): boolean {
  return text !== null && asciiLower(text).includes(asciiLower(q));
}
