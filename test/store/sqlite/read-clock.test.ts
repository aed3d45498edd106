// The reader thread's clock with fake clocks: a read cheaper than the burst never waits; a scan is
// paced to its share of a core, averaged; a pause never runs past the deadline, after which tick()
// throws; a share of 1 never measures anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BURST_MS, createReadClock, ReadDeadlineExceeded } from '../../../src/store/sqlite/read-clock.ts';

/** A thread whose every tick costs `cpuPerTick` ms of CPU and wall time; sleeps pass wall time only. */
function fakeThread(cpuPerTick: number) {
  const time = { wall: 0, cpu: 0, slept: 0 };
  const options = {
    now: () => 1_000_000 + time.wall,
    cpuMs: () => time.cpu,
    wallMs: () => time.wall,
    sleep: (ms: number) => {
      time.wall += ms;
      time.slept += ms;
    },
  };
  const work = () => {
    time.wall += cpuPerTick;
    time.cpu += cpuPerTick;
  };
  return { time, options, work };
}

test('a read cheaper than the burst never waits', () => {
  const thread = fakeThread(1);
  const clock = createReadClock({ ...thread.options, cpuShare: 0.25 });
  clock.start(thread.options.now() + 2_000);
  for (let n = 0; n < BURST_MS - 1; n++) {
    thread.work();
    clock.tick();
  }
  assert.equal(thread.time.slept, 0);
});

test('a scan runs at its share of a core, averaged, and rests earn the burst back', () => {
  const thread = fakeThread(1);
  const clock = createReadClock({ ...thread.options, cpuShare: 0.25 });
  clock.start(thread.options.now() + 60_000);
  for (let n = 0; n < 1_000; n++) {
    thread.work();
    clock.tick();
  }
  // 1,000 ms of CPU: the first BURST_MS free, the rest at a quarter of a core.
  const share = thread.time.cpu / thread.time.wall;
  assert.ok(share <= 0.25 + BURST_MS / thread.time.wall, `share ${share}`);
  assert.ok(share > 0.24, `share ${share}`);
  // A rest as long as the burst takes to earn back makes the next read free again.
  thread.time.wall += BURST_MS / 0.25;
  const slept = thread.time.slept;
  clock.start(thread.options.now() + 2_000);
  for (let n = 0; n < BURST_MS - 1; n++) {
    thread.work();
    clock.tick();
  }
  assert.equal(thread.time.slept, slept);
});

test('a pause never runs past the deadline, and past it tick() throws', () => {
  const thread = fakeThread(10);
  const clock = createReadClock({ ...thread.options, cpuShare: 0.05 });
  const deadline = thread.options.now() + 500;
  clock.start(deadline);
  assert.throws(() => {
    for (;;) {
      thread.work();
      clock.tick();
    }
  }, ReadDeadlineExceeded);
  assert.ok(thread.options.now() <= deadline + 10, 'abandoned within one tick of the deadline');
});

test('with a share of 1 the clock measures nothing', () => {
  let measured = 0;
  const clock = createReadClock({
    cpuShare: 1,
    cpuMs: () => {
      measured++;
      return 0;
    },
    sleep: () => assert.fail('never sleeps'),
  });
  clock.start(Date.now() + 1_000);
  const before = measured;
  for (let n = 0; n < 100; n++) clock.tick();
  assert.equal(measured, before);
});
