// The behaviours every storage backend must share, proven once here and run against each backend
// (test/store/<backend>/conformance.test.ts): exactly-once writes, erasure and tombstones, listing
// semantics and byte budgets, /stats, and the feed. Written against the contract (store.ts) alone.
//
//   runStoreConformance('SQLite', async (t, { now }) => ({ store: await openSqliteStore({ ..., now }) }));
import { describe } from 'node:test';
import type { OpenStore } from './conformance-support.ts';
import { feedConformance } from './conformance-feed.ts';
import { listingConformance } from './conformance-listing.ts';
import { statsConformance } from './conformance-stats.ts';
import { writeConformance } from './conformance-writes.ts';

export type { OpenedStore, OpenStore } from './conformance-support.ts';

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`${name} store: writes and erasure`, () => writeConformance(open));
  describe(`${name} store: listings`, () => listingConformance(open));
  describe(`${name} store: stats`, () => statsConformance(open));
  describe(`${name} store: feed`, () => feedConformance(open));
}
