// Structured logging: one JSON object per line. JSON.stringify escapes every control character,
// so no logged value (a header, a path) can break the one-line-per-event format.

export const LOG_LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type Logger = {
  log(level: LogLevel, fields: LogFields): void;
  /** Writes out lines still buffered; the entry point calls it before the process exits. */
  flush(): void;
};

/** Where log lines go: `write` takes one complete line; `flush` empties any buffer. */
export type LogSink = { write(line: string): void; flush(): void };

export type LoggerOptions = {
  level: LogLevel;
  /** Receives each line as it is logged; without it, lines go to stdout through a buffer. */
  write?: (line: string) => void;
  now?: () => Date;
};

export function createLogger({ level, write, now }: LoggerOptions): Logger {
  const threshold = LOG_LEVELS[level];
  const sink: LogSink = write === undefined ? createStdoutSink() : { write, flush: () => {} };
  const clock = now ?? (() => new Date());
  const enabled = (candidate: LogLevel) => LOG_LEVELS[candidate] >= threshold;
  return {
    log(candidate, fields) {
      if (!enabled(candidate)) return;
      sink.write(JSON.stringify({ ts: clock().toISOString(), level: candidate, ...fields }) + '\n');
    },
    flush: () => sink.flush(),
  };
}

/**
 * stdout writes to a file or pipe are synchronous system calls. Under load, lines logged in one
 * event-loop turn are joined and written once at the end of that turn, so a burst of requests
 * costs one write instead of one each. Lines are only ever held for the rest of the current turn.
 */
function createStdoutSink(): LogSink {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
