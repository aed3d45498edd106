// Which storage backend the black-box tests run the service on: TEST_BACKEND=sqlite (the default) or
// TEST_BACKEND=postgres (a schema of its own per service on TEST_DATABASE_URL: service-database.ts).
// `npm test` runs them once on each (scripts/test-postgres.ts).
import type { TestContext } from 'node:test';

export type Backend = 'sqlite' | 'postgres';

function readBackend(value: string | undefined): Backend {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error('TEST_BACKEND must be sqlite or postgres');
}

export const testBackend: Backend = readBackend(process.env.TEST_BACKEND);

/**
 * Skips, on PostgreSQL, a test that needs what only the SQLite backend has (its file, its writer
 * and reader threads, a preload into them), saying why; true when skipped, so the test returns.
 */
export function sqliteOnly(t: TestContext, why: string): boolean {
  if (testBackend === 'sqlite') return false;
  t.skip(`SQLite only: ${why}`);
  return true;
}

