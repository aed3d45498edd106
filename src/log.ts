// Structured logging: one JSON object per line. JSON.stringify escapes every control character,
// so no logged value (a header, a path) can break the one-line-per-event format.

export const LOG_LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type Logger = {
  log(level: LogLevel, fields: LogFields): void;
  enabled(level: LogLevel): boolean;
};

export type LoggerOptions = {
  level: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
};

export function createLogger({ level, write, now }: LoggerOptions): Logger {
  const threshold = LOG_LEVELS[level];
  const emit = write ?? ((line: string) => process.stdout.write(line));
  const clock = now ?? (() => new Date());
  const enabled = (candidate: LogLevel) => LOG_LEVELS[candidate] >= threshold;
  return {
    enabled,
    log(candidate, fields) {
      if (!enabled(candidate)) return;
      emit(JSON.stringify({ ts: clock().toISOString(), level: candidate, ...fields }) + '\n');
    },
  };
}
