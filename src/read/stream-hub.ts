// What every subscriber of the message stream shares: one feed read for all who ask for the same
// position, and a wake-up when messages were stored. Each subscriber follows the store's feed on
// its own (stream-route.ts), so none can miss or repeat a message, whatever others do; but
// subscribers at the tail all ask for the same position, and share one read: a hundred of them cost
// about what one does. A subscriber joins a read of its position already under way, however old:
// any page the feed gave for a position is a right answer for it, and the page says which version
// its read started at, so a subscriber woken since reads again at once, from the page's end, with
// everyone else who took it. That keeps them at the same positions, one read in flight at a time.
// Messages stored by this process wake them (the ingest routes signal after each commit), at once,
// or, when the last wake-up was less than WAKE_INTERVAL_MS ago, that long after it: under load a
// subscriber gets one write per interval, not one per commit, which is what keeps a hundred of them
// from slowing ingestion. Messages stored by other replicas are found by a poll.
import type { InboundMessage } from '../model/message.ts';
import { sseEvent, ssePosition } from './sse.ts';
import type { FeedPage, FeedRequest, ReadOptions } from '../store/store.ts';

export type FeedSource = (request: FeedRequest, options: ReadOptions) => Promise<FeedPage>;

/**
 * A feed page as subscribers share it: each message serialised once, for all of them, and the
 * events of all its messages encoded once, for those who take them all. `version` is the hub's
 * version when its read started: what it may not have seen is anything signalled after.
 */
export type SharedPage = {
  items: { position: string; message: InboundMessage; json: string }[];
  position: string;
  version: number;
  /** The page's events, and its position when that is past the last, as the wire has them. */
  unfiltered(): Buffer;
};

export type StreamHub = {
  /** Messages were stored: subscribers waiting at the tail read again. */
  signal(): void;
  /** Counts signals and polls: a subscriber remembers it before reading, and waits for a newer one. */
  version(): number;
  /**
   * The page after `after` (null: no messages, only the position of the newest), of PAGE_LIMIT at
   * most, shared with every other subscriber asking for the same position while it is read.
   */
  read(after: string | null): Promise<SharedPage>;
  /** Resolves once the version is past `seen` (a signal, a poll, or stop). */
  changed(seen: number): Promise<void>;
  /** Counts a subscriber in or out; the poll runs only while there are any. */
  subscribed(delta: 1 | -1): number;
  /** Wakes every waiting subscriber for good (shutdown). */
  stop(): void;
  stopped(): boolean;
};

export type StreamHubOptions = {
  feed: FeedSource;
  /** How long a feed read may take. */
  readTimeoutMs: number;
  /** Between two polls for messages other replicas stored. */
  pollMs: number;
  now?: () => number;
};

/** Messages per feed read. */
export const PAGE_LIMIT = 500;
/**
 * Wake-ups by signals come at most this often: 25 feed reads a second, and 25 writes a second per
 * subscriber. A write costs about the same whatever its size (a syscall and the stream's
 * bookkeeping, measured at 16 to 24 µs), so this, not the messages, is what 100 subscribers cost
 * ingest; and it is what a message waits at most at the tail before it is read.
 */
export const WAKE_INTERVAL_MS = 40;

export function createStreamHub({ feed, readTimeoutMs, pollMs, now = Date.now }: StreamHubOptions): StreamHub {
  let version = 0;
  let subscribers = 0;
  let isStopped = false;
  let poll: NodeJS.Timeout | null = null;
  let waiters: (() => void)[] = [];
  const inFlight = new Map<string, Promise<SharedPage>>();
  let lastWake = -Infinity;
  let pending: NodeJS.Timeout | null = null;

  function bump(): void {
    version++;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  }

  function wakeNow(): void {
    pending = null;
    lastWake = performance.now();
    bump();
  }

  return {
    signal() {
      if (pending !== null || isStopped) return;
      const wait = lastWake + WAKE_INTERVAL_MS - performance.now();
      if (wait <= 0) wakeNow();
      else pending = setTimeout(wakeNow, wait);
    },
    version: () => version,
    read(after) {
      const key = after ?? '';
      const shared = inFlight.get(key);
      if (shared !== undefined) return shared;
      const started = version;
      const page = feed({ after, from: null, limit: PAGE_LIMIT }, { deadline: now() + readTimeoutMs }).then((read) =>
        sharedPage(read.items, read.position, started),
      );
      inFlight.set(key, page);
      const forget = () => {
        if (inFlight.get(key) === page) inFlight.delete(key);
      };
      page.then(forget, forget);
      return page;
    },
    changed(seen) {
      if (version > seen || isStopped) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    subscribed(delta) {
      subscribers += delta;
      if (subscribers > 0 && poll === null && !isStopped) {
        poll = setInterval(bump, pollMs);
        poll.unref();
      } else if (subscribers === 0 && poll !== null) {
        clearInterval(poll);
        poll = null;
      }
      return subscribers;
    },
    stop() {
      isStopped = true;
      if (poll !== null) clearInterval(poll);
      if (pending !== null) clearTimeout(pending);
      poll = null;
      bump();
    },
    stopped: () => isStopped,
  };
}

function sharedPage(read: FeedPage['items'], position: string, version: number): SharedPage {
  const items = read.map((item) => ({ ...item, json: JSON.stringify(item.message) }));
  let encoded: Buffer | null = null;
  return {
    items,
    position,
    version,
    unfiltered() {
      if (encoded === null) {
        let text = items.map((item) => sseEvent(item.position, item.json)).join('');
        if (items.length > 0 && items.at(-1)?.position !== position) text += ssePosition(position);
        encoded = Buffer.from(text);
      }
      return encoded;
    },
  };
}
