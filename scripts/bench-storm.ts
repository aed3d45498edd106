// The read storm of `scripts/bench.ts --scenarios storm`: two clients that each loop, one request at
// a time, over the most expensive reads the API has on a large table: a 2-character `q` (no
// trigram, so every row's text is checked), a common word (the trigram index yields most of the
// table as candidates), and a deep `offset` (that many rows walked and skipped). They run while
// ingest runs flat out; the bench compares ingest to the same load without them.

/** The reads, in the order each client loops over them (the second client starts one further on). */
export const STORM_READS = ['/messages?q=zq&limit=100', '/messages?q=the&limit=100', '/messages?offset=900000&limit=100'] as const;
const CLIENTS = 2;

export type StormResult = { reads: number; byStatus: Record<string, number> };

export function startStorm(port: number, headers: Record<string, string> = {}): { stop(): Promise<StormResult> } {
  const byStatus: Record<string, number> = {};
  let reads = 0;
  let running = true;
  const client = async (first: number) => {
    for (let n = first; running; n++) {
      const path = STORM_READS[n % STORM_READS.length] as string;
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers }).catch(() => null);
      await response?.arrayBuffer().catch(() => null);
      const status = String(response?.status ?? 'error');
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      reads++;
      // A refused read is retried after a moment, as a client honouring Retry-After would, only
      // much sooner: the storm keeps the pressure on.
      if (response?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, (_, index) => client(index)));
  return {
    async stop() {
      running = false;
      await done;
      return { reads, byStatus };
    },
  };
}
