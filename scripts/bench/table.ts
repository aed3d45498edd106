// Plain-text tables and the figures in their cells, the same for every scenario's report.
import type { Load } from './load.ts';
import type { Probe } from './servers.ts';

/** Columns right-aligned to their widest cell, two spaces apart. */
export function formatTable(header: readonly string[], lines: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  return [header, ...lines].map((line) => line.map((cell, column) => cell.padStart(widths[column] as number)).join('  ')).join('\n');
}

/** `part` as a percentage of `whole`, rounded: "85%". */
export const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)}%`;
/** `value` as a multiple of `base`: "1.42x". */
export const times = (value: number, base: number) => `${(value / base).toFixed(2)}x`;
/** Thousands separated, for counts a reader compares by eye: "100,000". */
export const count = (n: number) => Math.round(n).toLocaleString('en-US');

export const rssCell = (probe: Probe | null) => (probe?.peakRssBytes == null ? '?' : (probe.peakRssBytes / 2 ** 20).toFixed(0));
/** CPU time of the servers over the timed phase, per unit of work done (a request, a message). */
export const cpuPerCell = (probe: Probe | null, units: number) => (probe === null ? '?' : ((probe.cpuMs * 1000) / units).toFixed(0));
export const latencyCells = (load: Load) => [load.p50.toFixed(2), load.p99.toFixed(2)];

/**
 * messages_stored after the load against what the 200 answers promise: equal, or (wrk, which
 * stops with requests in flight) up to `slack` more. Anything else is flagged with what was expected.
 */
export function storedCell(stored: number | undefined, expected: number, slack: number): string {
  if (stored === undefined) return '?';
  return stored >= expected && stored <= expected + slack ? count(stored) : `${count(stored)}, expected ${count(expected)}!`;
}
