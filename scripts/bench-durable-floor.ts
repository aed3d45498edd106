// The durable floor for scripts/bench.ts: the cheapest server on this machine that answers 200 only
// once the body is on disk, in the service's own shape. A bare node:http server (like
// bench-floor.ts) queues each body; one worker thread writes a batch of them to a file and
// fdatasyncs it; every request of the batch is answered when the thread replies. Like SQLite's
// write-ahead log, which is reused in place once checkpointed, the file stops growing: past
// FILE_BYTES the writes start again at its beginning, so from then on a sync has no new file size
// to commit. Bodies that
// arrive meanwhile form the next batch, sent as soon as the thread is free, after one event-loop
// turn, exactly as src/write-queue.ts schedules batches. There is no signature check, no
// validation, no SQLite and no log: what the service does beyond this is its own cost, and what this
// costs is the price of one fsync per batch and two hand-overs between threads on this machine.
// Listens on HOST:PORT and writes to DURABLE_FLOOR_FILE, which it removes on SIGTERM.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

if (isMainThread) {
  const file = process.env.DURABLE_FLOOR_FILE as string;
  const syncer = new Worker(new URL(import.meta.url));
  let waiting: { body: Buffer; res: ServerResponse }[] = [];
  let writing: typeof waiting = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    writing = waiting;
    waiting = [];
    syncer.postMessage(writing.map((entry) => entry.body));
  };
  syncer.on('message', () => {
    const done = writing;
    writing = [];
    if (waiting.length > 0) flush();
    for (const { res } of done) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 15 });
      res.end('{"status":"ok"}');
    }
  });

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      waiting.push({ body: Buffer.concat(chunks), res });
      if (scheduled || writing.length > 0) return;
      scheduled = true;
      setImmediate(flush);
    });
  });
  server.maxRequestsPerSocket = 10_000;
  server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
  process.on('SIGTERM', () =>
    server.close(async () => {
      await syncer.terminate();
      rmSync(file, { force: true });
      process.exit(0);
    }),
  );
} else {
  const FILE_BYTES = 16 * 1024 * 1024;
  const fd = openSync(process.env.DURABLE_FLOOR_FILE as string, 'w');
  let position = 0;
  parentPort!.on('message', (bodies: Uint8Array[]) => {
    const batch = Buffer.concat(bodies);
    if (position + batch.length > FILE_BYTES) position = 0;
    writeSync(fd, batch, 0, batch.length, position);
    position += batch.length;
    fdatasyncSync(fd);
    parentPort!.postMessage(bodies.length);
  });
  process.on('exit', () => closeSync(fd));
}
