// A fault-injection preload (`node --import`) for tests of read deadlines: in the service's threads,
// it wraps the read_tick() function the reader registers (store/sqlite/message-queries.ts), so that
// every tick of a scan takes READ_FAULT_TICK_MS (a slow read, which the in-thread deadline ends), or
// never returns (READ_FAULT=stuck: a read no tick can end, so its thread must be stopped). The
// service's code is unchanged; only what SQLite calls back into is slowed.
import { DatabaseSync } from 'node:sqlite';

const mode = process.env.READ_FAULT;
const tickMs = Number(process.env.READ_FAULT_TICK_MS ?? '0');
const sleeper = new Int32Array(new SharedArrayBuffer(4));

if (mode === 'slow' || mode === 'stuck') {
  const register = DatabaseSync.prototype.function as (this: DatabaseSync, name: string, ...rest: unknown[]) => void;
  DatabaseSync.prototype.function = function (this: DatabaseSync, name: string, ...rest: unknown[]) {
    const implementation = rest.at(-1) as (...args: unknown[]) => unknown;
    if (name !== 'read_tick' || typeof implementation !== 'function') return register.call(this, name, ...rest);
    const faulty = (...args: unknown[]) => {
      Atomics.wait(sleeper, 0, 0, mode === 'stuck' ? 60_000 : tickMs);
      return implementation(...args);
    };
    return register.call(this, name, ...rest.slice(0, -1), faulty);
  } as typeof DatabaseSync.prototype.function;
}
