// Reading typed values out of an environment-like object, each checked where it enters: a value out
// of range records an error naming the variable and what it accepts, and the first error stops
// startup (config.ts). Secrets and tokens come from the variable or from a file named by its `_FILE`
// twin (Docker and Kubernetes secrets), never both, and no error ever quotes a secret's value.

export type Env = Record<string, string | undefined>;

/** Reads the file a `_FILE` variable names; the entry point passes fs.readFileSync's text. */
export type ReadFile = (path: string) => string;

export type EnvReader = {
  /** The variable's text, trimmed; undefined when unset or empty. */
  text(name: string): string | undefined;
  /** An integer from min to max, or the default when unset. */
  integer(name: string, fallback: number, min: number, max: number, rangeText?: string): number;
  /** Comma-separated values, trimmed, empty ones dropped; [] when unset. */
  list(name: string): string[];
  /**
   * Secret values from NAME (comma-separated unless `single`) or from the file NAME_FILE names (one
   * per line; a trailing newline and carriage returns stripped, blank lines ignored).
   */
  secrets(name: string, options?: { single?: boolean }): string[];
  fail(message: string): void;
  /** The first error recorded, if any. */
  error(): string | null;
};

export function createEnvReader(env: Env, readFile: ReadFile): EnvReader {
  let firstError: string | null = null;
  const fail = (message: string) => {
    firstError ??= message;
  };
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  return {
    text,
    integer(name, fallback, min, max, rangeText = `${min} to ${max}`) {
      const raw = env[name];
      if (raw === undefined) return fallback;
      const value = /^\d{1,10}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (value >= min && value <= max) return value;
      fail(`${name}: must be an integer from ${rangeText}`);
      return fallback;
    },
    list: (name) => splitList(text(name) ?? ''),
    secrets(name, { single = false } = {}) {
      const direct = env[name];
      const filePath = text(`${name}_FILE`);
      if (direct !== undefined && direct !== '' && filePath !== undefined) {
        fail(`${name} and ${name}_FILE are both set: set one of them`);
        return [];
      }
      if (filePath === undefined) return single ? (direct === undefined || direct === '' ? [] : [direct]) : splitList(direct ?? '');
      let content: string;
      try {
        content = readFile(filePath);
      } catch {
        // The path is the operator's own configuration; the reason (ENOENT, EACCES) is enough.
        fail(`${name}_FILE: cannot read the file it names`);
        return [];
      }
      return content.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
    },
    fail,
    error: () => firstError,
  };
}

function splitList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
