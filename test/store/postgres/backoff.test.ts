import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../../src/store/postgres/wire/backoff.ts';

const options = { initialMs: 100, maxMs: 10_000 };

test('no wait before a first attempt; then the ceiling doubles from initialMs up to maxMs', () => {
  const ceiling = (failures: number) => backoffDelay(failures, options, () => 1);
  assert.equal(ceiling(0), 0);
  assert.deepEqual([1, 2, 3, 4, 7, 8, 9, 50, 5000].map(ceiling), [100, 200, 400, 800, 6400, 10_000, 10_000, 10_000, 10_000]);
});

test('jitter keeps each delay between half the ceiling and the ceiling', () => {
  assert.equal(backoffDelay(3, options, () => 0), 200);
  assert.equal(backoffDelay(3, options, () => 0.5), 300);
  for (let run = 0; run < 100; run++) {
    const delay = backoffDelay(20, options);
    assert.ok(delay >= 5000 && delay <= 10_000, String(delay));
  }
});
