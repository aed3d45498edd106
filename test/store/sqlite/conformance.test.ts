// The store conformance suite (test/store/conformance/) against SQLite: a file in a temp dir of its
// own for each test, with the writer and reader threads the service runs.
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import { runStoreConformance } from '../conformance/store-conformance.ts';
import { tempDir } from '../../support/temp-dir.ts';

runStoreConformance('SQLite', async (t, { now }) => ({
  store: await openSqliteStore({ path: join(tempDir(t, 'sqlite-conformance-'), 'app.db'), queueLimit: 100, now }),
}));
