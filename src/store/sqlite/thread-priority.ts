// Reader threads run at the lowest CPU priority the system allows, so that on a busy machine a read
// takes only the CPU that ingestion leaves: a scan of a million rows must not take a core from the
// threads that receive and commit webhooks. Raising one's own niceness needs no privilege. Linux
// gives each thread its own niceness, named by its thread id (read from /proc/thread-self); where
// that is unavailable the thread keeps the process's priority, and reads stay bounded by their
// deadline alone.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The lowest priority: 19 is the nicest value on Linux. */
const LOWEST = 19;

/** Lowers the calling thread's priority; true when it could. Never throws. */
export function lowerThisThreadPriority(): boolean {
  try {
    // "<pid>/task/<tid>"
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (!Number.isInteger(threadId) || threadId <= 0) return false;
    setPriority(threadId, LOWEST);
    return true;
  } catch {
    return false;
  }
}
