// Fault injection for one black-box test, preloaded into the real service with
// `node --import ./test/support/stop-writer-on-signal.ts src/server.ts`: on SIGUSR2 it terminates
// the writer thread, as a crash or an out-of-memory kill of that thread would. The service's own
// code runs unchanged; Node's built-in 'worker_threads' diagnostics channel hands over the thread.
import { subscribe } from 'node:diagnostics_channel';
import { isMainThread, type Worker } from 'node:worker_threads';

if (isMainThread) {
  const workers: Worker[] = [];
  subscribe('worker_threads', (message) => workers.push((message as { worker: Worker }).worker));
  process.on('SIGUSR2', () => {
    for (const worker of workers) void worker.terminate();
  });
}
