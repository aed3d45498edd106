// Every read passes this gate before it reaches the store: at most `concurrency` reads run at once
// and at most `queueLimit` wait, so a storm of expensive reads cannot pile up work or memory; past
// that a read is refused at once (503, read_busy). Each read gets its deadline here, when it
// arrives, so the time it waits counts: a read still waiting at its deadline is refused
// (read_timeout), and one running is abandoned by the store at the same instant.
import type { FeedPage, FeedRequest, MessagePage, MessageQuery, MessageReader, MessageStats, ReadOptions } from '../store/store.ts';
import { ReadUnavailableError } from '../store/store.ts';

export type ReadGateLimits = { concurrency: number; queueLimit: number; timeoutMs: number };

/** The reader the read routes use: the store's, admitted through the gate, with its deadline set. */
export type BoundedReader = {
  listMessages(query: MessageQuery): Promise<MessagePage>;
  stats(): Promise<MessageStats>;
  feed(request: FeedRequest): Promise<FeedPage>;
};

export type ReadGateDeps = {
  reader: MessageReader;
  limits: ReadGateLimits;
  /** Whether an answer the size of a full page can still be buffered (http/answer-budget.ts). */
  pageFits: () => boolean;
  now?: () => number;
};

type Waiting = { start: () => void; refuse: (error: Error) => void; timer: NodeJS.Timeout };

export function gateReader({ reader, limits, pageFits, now = Date.now }: ReadGateDeps): BoundedReader {
  let running = 0;
  const waiting: Waiting[] = [];

  function release(): void {
    running--;
    const next = waiting.shift();
    if (next === undefined) return;
    clearTimeout(next.timer);
    running++;
    next.start();
  }

  /** `large`: the answer may be as large as a page, which the answer budget must have room for. */
  async function admitted<T>(large: boolean, read: (options: ReadOptions) => Promise<T>): Promise<T> {
    // A page read now could not be sent without going past the budget of unsent answers.
    if (large && !pageFits()) throw new ReadUnavailableError('answer_budget');
    const deadline = now() + limits.timeoutMs;
    if (running >= limits.concurrency) {
      if (waiting.length >= limits.queueLimit) throw new ReadUnavailableError('read_busy');
      await new Promise<void>((start, refuse) => {
        const entry: Waiting = {
          start,
          refuse,
          timer: setTimeout(() => {
            waiting.splice(waiting.indexOf(entry), 1);
            refuse(new ReadUnavailableError('read_timeout'));
          }, limits.timeoutMs),
        };
        waiting.push(entry);
      });
    } else {
      running++;
    }
    try {
      return await read({ deadline });
    } finally {
      release();
    }
  }

  return {
    listMessages: (query) => admitted(true, (options) => reader.listMessages(query, options)),
    stats: () => admitted(false, (options) => reader.stats(options)),
    feed: (request) => admitted(true, (options) => reader.feed(request, options)),
  };
}
