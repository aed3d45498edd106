// The store conformance suite (test/store/conformance/) against PostgreSQL, each test in a schema of
// its own; skipped without TEST_DATABASE_URL unless REQUIRE_POSTGRES=1.
import { postgresHarness } from '../../support/postgres-store.ts';
import { runStoreConformance } from '../conformance/store-conformance.ts';

runStoreConformance('PostgreSQL', async (t, { now }) => {
  const harness = await postgresHarness(t);
  if (harness === null) return null;
  // The harness closes its stores and drops the schema after the test.
  return { store: await harness.open({ now }) };
});
