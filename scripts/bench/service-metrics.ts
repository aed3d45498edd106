// What the bench asks the service itself while the load runs: its /metrics (scraped when the timed
// phase starts and once it ends, so a counter's growth is what that phase did), and a light reader
// asking for /stats and the first page of /messages ten times a second, whose latencies show what
// ingest does to reads.
import { percentile } from './load.ts';

/** The samples of a /metrics answer, by name with its labels as written (`name{a="b"}`). */
export type Samples = Map<string, number>;
/** Latencies of the reads asked while ingest ran (sorted), and how many did not answer 200. */
export type Reads = { latencies: Float64Array; failed: number };
const READ_PAUSE_MS = 100;

export async function scrapeMetrics(port: number): Promise<Samples> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples: Samples = new Map();
  for (const match of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/gm)) samples.set(match[1] as string, Number(match[2]));
  return samples;
}

/** How much a sample grew from one scrape to the next (a gauge may shrink). */
export function growth(before: Samples, after: Samples, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

export function readWhileIngesting(port: number): { stop(): Promise<Reads> } {
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}${n % 2 === 0 ? '/stats' : '/messages?limit=50'}`).catch(() => null);
      await response?.arrayBuffer();
      if (response?.status === 200) latencies.push(performance.now() - started);
      else failed++;
      await new Promise((resolve) => setTimeout(resolve, READ_PAUSE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { latencies: Float64Array.from(latencies).sort(), failed };
    },
  };
}

/** "p50/max" in milliseconds, and how many reads failed, for a table cell. */
export function readsCell(reads: Reads | null): string {
  if (reads === null) return '-';
  const figures = `${percentile(reads.latencies, 50).toFixed(1)}/${percentile(reads.latencies, 100).toFixed(1)}`;
  return figures + (reads.failed > 0 ? ` (${reads.failed} failed)` : '');
}
