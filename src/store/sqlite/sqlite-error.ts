// What of a SQLite error may leave the thread it happened on, be logged or be counted: its code.

/** `SQLITE_<result code>` of a node:sqlite error, never its message (which may quote SQL or data). */
export function sqliteErrorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    // node:sqlite errors carry the SQLite result code in `errcode`.
    const { errcode } = error as { errcode?: unknown };
    if (typeof errcode === 'number') return `SQLITE_${errcode}`;
  }
  return 'unknown';
}
