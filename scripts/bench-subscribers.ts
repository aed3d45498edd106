// The subscribers of `scripts/bench.ts --scenarios stream`, in a process of their own (forked, with
// an IPC channel) so that reading a hundred streams does not slow the bench's load generator.
// It opens SUBSCRIBERS connections to GET /messages/stream on 127.0.0.1:PORT and, every PROBE_MS,
// posts a probe: a signed message on /webhook whose id names it. A subscriber does not parse the
// events it receives (a hundred of them at ingest's full rate would take more CPU than the service
// it measures): it counts their bytes and looks only for the probes' ids, so each probe gives a
// hundred delivery latencies, from the moment its POST was sent and from its 200 answer.
//
// Messages from the parent: 'start' (the timed phase begins: latencies and counts restart),
// 'stop' (one last probe, awaited by every subscriber for up to STOP_WAIT_MS, then the result is
// sent back as a message and the process exits).
import { request } from 'node:http';
import { connect } from 'node:net';
import { signBody } from '../src/ingest/schemes/x-signature.ts';

export type SubscribersResult = {
  /** Subscribers whose stream was open when the timed phase began, and when it ended. */
  openAtStart: number;
  openAtEnd: number;
  /** Streams the service ended on its own (a `slow_consumer` error event, or a close). */
  ended: number;
  /** Probes sent in the timed phase, and the ones some subscriber never received. */
  probes: number;
  missed: number;
  /** Delivery latencies in ms, every subscriber's of every timed probe: from the POST, from its 200. */
  fromPost: { p50: number; p99: number; max: number };
  fromAnswer: { p50: number; p99: number; max: number };
  /** Bytes the subscribers read in the timed phase, and this process's CPU time meanwhile. */
  bytes: number;
  cpuMs: number;
};

const port = Number(process.env.PORT);
const subscribers = Number(process.env.SUBSCRIBERS);
const secret = process.env.WEBHOOK_SECRET as string;
const probeMs = Number(process.env.PROBE_MS ?? 50);
const STOP_WAIT_MS = 5_000;
/** The id of probe n is `${MARKER}${n}"`: unique to the run, so no stored message can look like one. */
const MARKER_TEXT = `streamprobe-${process.pid}-${Date.now()}-`;
const MARKER = Buffer.from(MARKER_TEXT);
const QUOTE = 0x22;

type Probe = { sentAt: number; answeredAt: number | null; timed: boolean; seenBy: number };
type Subscriber = { open: boolean; tail: Buffer };

const probes: Probe[] = [];
const fromPost: number[] = [];
const fromAnswerArrivals: { probe: number; at: number }[] = [];
const streams: Subscriber[] = [];
let timed = false;
let bytes = 0;
let ended = 0;
let cpuAtStart = process.cpuUsage();
let openAtStart = 0;

for (let n = 0; n < subscribers; n++) streams.push(subscribe());
const probeTimer = setInterval(sendProbe, probeMs);

process.on('message', (message) => {
  if (message === 'start') {
    timed = true;
    fromPost.length = 0;
    fromAnswerArrivals.length = 0;
    bytes = 0;
    cpuAtStart = process.cpuUsage();
    openAtStart = streams.filter((stream) => stream.open).length;
  } else if (message === 'stop') {
    void finish();
  }
});

/**
 * A stream read from a bare TCP socket: no HTTP parser, so a subscriber costs little more than the
 * bytes it reads. The chunked framing cannot split a probe's id: each page is one chunk, written whole.
 */
function subscribe(): Subscriber {
  const subscriber: Subscriber = { open: false, tail: Buffer.alloc(0) };
  const socket = connect(port, '127.0.0.1', () => socket.write('GET /messages/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
  let answered = false;
  socket.on('data', (chunk: Buffer) => {
    if (!answered) {
      answered = true;
      subscriber.open = chunk.subarray(0, 12).toString('latin1') === 'HTTP/1.1 200';
      if (!subscriber.open) socket.destroy();
    }
    bytes += chunk.length;
    scan(subscriber, chunk);
  });
  socket.on('close', () => {
    if (subscriber.open) ended++;
    subscriber.open = false;
  });
  socket.on('error', () => {});
  return subscriber;
}

/** Finds the probes' ids in a chunk, and in the seam between it and the chunk before. */
function scan(subscriber: Subscriber, chunk: Buffer): void {
  const now = performance.now();
  if (subscriber.tail.length > 0) {
    const seam = Buffer.concat([subscriber.tail, chunk.subarray(0, MARKER.length + 12)]);
    // Only a probe that starts in the tail: one wholly in the chunk is found below.
    for (let at = seam.indexOf(MARKER); at !== -1 && at < subscriber.tail.length; at = seam.indexOf(MARKER, at + 1)) seen(seam, at, now);
  }
  for (let at = chunk.indexOf(MARKER); at !== -1; at = chunk.indexOf(MARKER, at + 1)) seen(chunk, at, now);
  subscriber.tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (MARKER.length + 12))));
}

function seen(buffer: Buffer, at: number, now: number): void {
  const end = buffer.indexOf(QUOTE, at + MARKER.length);
  if (end === -1) return;
  const n = Number(buffer.toString('latin1', at + MARKER.length, end));
  const probe = probes[n];
  if (probe === undefined) return;
  probe.seenBy++;
  if (!probe.timed) return;
  fromPost.push(now - probe.sentAt);
  fromAnswerArrivals.push({ probe: n, at: now });
}

function sendProbe(): Promise<void> {
  const n = probes.length;
  const probe: Probe = { sentAt: performance.now(), answeredAt: null, timed, seenBy: 0 };
  probes.push(probe);
  const body = Buffer.from(
    JSON.stringify({ message_id: `${MARKER_TEXT}${n}`, from: '+15550000001', to: '+15550000002', ts: new Date().toISOString(), text: 'probe' }),
  );
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1', port, path: '/webhook', method: 'POST', agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, 'X-Signature': signBody(secret, body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) probe.answeredAt = performance.now();
          resolve();
        });
      },
    );
    req.on('error', () => resolve());
    req.end(body);
  });
}

async function finish(): Promise<void> {
  clearInterval(probeTimer);
  const openAtEnd = streams.filter((stream) => stream.open).length;
  const cpu = process.cpuUsage(cpuAtStart);
  const timedBytes = bytes;
  const latencies = Float64Array.from(fromPost).sort();
  // A 200 comes after the commit, and so may come after the event: such a delivery counts as 0.
  const afterAnswer = Float64Array.from(
    fromAnswerArrivals.map(({ probe, at }) => Math.max(0, at - ((probes[probe] as Probe).answeredAt ?? at))),
  ).sort();
  // The last probe shows that every open stream is still delivering at the end.
  await sendProbe();
  const deadline = performance.now() + STOP_WAIT_MS;
  const timedProbes = probes.filter((probe) => probe.timed);
  const expected = openAtEnd;
  while (performance.now() < deadline && timedProbes.some((probe) => probe.seenBy < expected)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const result: SubscribersResult = {
    openAtStart,
    openAtEnd,
    ended,
    probes: timedProbes.length,
    missed: timedProbes.filter((probe) => probe.answeredAt !== null && probe.seenBy < expected).length,
    fromPost: figures(latencies),
    fromAnswer: figures(afterAnswer),
    bytes: timedBytes,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
  process.send?.(result, undefined, {}, () => process.exit(0));
}

function figures(sorted: Float64Array): { p50: number; p99: number; max: number } {
  const at = (p: number) => (sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number));
  return { p50: at(50), p99: at(99), max: at(100) };
}
