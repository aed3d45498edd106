// What every subscriber of the message stream shares: one feed read for all who ask for the same
// position at the same time, and a wake-up when messages were stored. Each subscriber follows the
// store's feed on its own (stream-route.ts), so none can miss or repeat a message, whatever others
// do; but subscribers at the tail all ask for the same position, and share one read: a hundred of
// them cost about what one does. Messages stored by this process wake them at once (the ingest
// routes signal after each commit); messages stored by other replicas are found by a poll.
import type { InboundMessage } from '../model/message.ts';
import type { FeedPage, FeedRequest, ReadOptions } from '../store/store.ts';

export type FeedSource = (request: FeedRequest, options: ReadOptions) => Promise<FeedPage>;

/** A feed page as subscribers share it: each message serialised once, for all of them. */
export type SharedPage = { items: { position: string; message: InboundMessage; json: string }[]; position: string };

export type StreamHub = {
  /** Messages were stored: subscribers waiting at the tail read again. */
  signal(): void;
  /** Counts signals and polls: a subscriber remembers it before reading, and waits for a newer one. */
  version(): number;
  /**
   * The page after `after` (null: no messages, only the position of the newest), of PAGE_LIMIT at
   * most, shared with every other subscriber asking for the same position since `version`.
   */
  read(after: string | null, version: number): Promise<SharedPage>;
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

type Shared = { version: number; page: Promise<SharedPage> };

export function createStreamHub({ feed, readTimeoutMs, pollMs, now = Date.now }: StreamHubOptions): StreamHub {
  let version = 0;
  let subscribers = 0;
  let isStopped = false;
  let poll: NodeJS.Timeout | null = null;
  let waiters: (() => void)[] = [];
  const inFlight = new Map<string, Shared>();

  function bump(): void {
    version++;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  }

  return {
    signal: bump,
    version: () => version,
    read(after, since) {
      const key = after ?? '';
      const shared = inFlight.get(key);
      // A read that started before the change this subscriber waits for cannot have seen it.
      if (shared !== undefined && shared.version >= since) return shared.page;
      const page = feed({ after, from: null, limit: PAGE_LIMIT }, { deadline: now() + readTimeoutMs }).then((read) => ({
        position: read.position,
        items: read.items.map((item) => ({ ...item, json: JSON.stringify(item.message) })),
      }));
      const entry: Shared = { version, page };
      inFlight.set(key, entry);
      const forget = () => {
        if (inFlight.get(key) === entry) inFlight.delete(key);
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
      poll = null;
      bump();
    },
    stopped: () => isStopped,
  };
}
