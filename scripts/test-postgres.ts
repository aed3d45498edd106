// The second pass of `npm test`: the black-box tests again, on PostgreSQL (TEST_BACKEND=postgres,
// each service in a schema of its own on TEST_DATABASE_URL: test/support/service-database.ts).
// The black-box files are those that start the service (startService) or an app on a real store
// (serviceDatabase); test/store/sqlite/ and test/store/postgres/ are about one backend each, and
// the unit and store tests already run on PostgreSQL in their own files.
//
// Without TEST_DATABASE_URL the pass is skipped with one line saying how to enable it, unless
// REQUIRE_POSTGRES=1 (CI): then it fails.
import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';

const ENABLE = 'eval "$(scripts/pg-test-cluster.sh start)"';
const ROOT = new URL('..', import.meta.url).pathname;

if ((process.env.TEST_DATABASE_URL ?? '') === '') {
  if (process.env.REQUIRE_POSTGRES === '1') {
    console.error(`PostgreSQL pass: TEST_DATABASE_URL is not set, and REQUIRE_POSTGRES=1 requires it; for a throwaway server: ${ENABLE}`);
    process.exit(1);
  }
  console.log(`PostgreSQL pass skipped: TEST_DATABASE_URL is not set; for a throwaway server: ${ENABLE}`);
  process.exit(0);
}

const files = globSync('test/**/*.test.ts', { cwd: ROOT })
  .filter((file) => !file.startsWith('test/store/sqlite/') && !file.startsWith('test/store/postgres/'))
  .filter((file) => /\b(startService|serviceDatabase)\(/.test(readFileSync(`${ROOT}${file}`, 'utf8')))
  .sort();

console.log(`PostgreSQL pass: ${files.length} black-box files with TEST_BACKEND=postgres`);
const run = spawnSync(
  process.execPath,
  ['--test', '--test-timeout=120000', '--test-force-exit', '--test-reporter=spec', ...files],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TEST_BACKEND: 'postgres' } },
);
process.exit(run.status ?? 1);
