import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.ts';
import { parseExposition, valueOf } from '../support/exposition.ts';

test('the metrics registry', async (t) => {
  await t.test('renders HELP and TYPE for every family, even one without samples yet', async () => {
    const metrics = createMetrics();
    metrics.counter({ name: 'jobs_total', help: 'Jobs done.', labelNames: ['kind'] });
    metrics.gauge({ name: 'queue_depth', help: 'Jobs waiting.' }).set({}, 3);
    const text = await metrics.render();
    assert.equal(text, '# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\n# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth 3\n');
    const parsed = parseExposition(text);
    assert.deepEqual([...parsed.keys()], ['jobs_total', 'queue_depth']);
  });

  await t.test('escapes backslash, double quote and line feed in label values and round-trips them', async () => {
    const metrics = createMetrics();
    const counter = metrics.counter({ name: 'odd_total', help: 'Odd label values.', labelNames: ['value'] });
    const odd = ['back\\slash', 'double "quote"', 'line\nfeed', 'tab\tand unicode é 👋', '', '\\n literally', '}{,='];
    for (const value of odd) counter.inc({ value });
    const text = await metrics.render();
    assert.ok(text.includes('odd_total{value="back\\\\slash"} 1\n'));
    assert.ok(text.includes('odd_total{value="double \\"quote\\""} 1\n'));
    assert.ok(text.includes('odd_total{value="line\\nfeed"} 1\n'));
    assert.equal(text.split('\n').length, 2 + odd.length + 1, 'one line per series: no value broke a line');
    const parsed = parseExposition(text);
    assert.deepEqual(parsed.get('odd_total')?.samples.map((s) => s.labels.value), odd);
  });

  await t.test('escapes backslash and line feed in HELP text', async () => {
    const metrics = createMetrics();
    metrics.gauge({ name: 'g', help: 'two\nlines and a \\ backslash' }).set({}, 1);
    const text = await metrics.render();
    assert.ok(text.startsWith('# HELP g two\\nlines and a \\\\ backslash\n'));
    assert.equal(parseExposition(text).get('g')?.help, 'two\nlines and a \\ backslash');
  });

  await t.test('keeps histogram buckets cumulative with +Inf equal to _count', async () => {
    const metrics = createMetrics();
    const histogram = metrics.histogram({ name: 'size_bytes', help: 'Sizes.', labelNames: ['kind'], buckets: [10, 100] });
    for (const value of [1, 10, 11, 100, 101, 5000]) histogram.observe({ kind: 'a' }, value);
    histogram.observe({ kind: 'b' }, 50);
    const parsed = parseExposition(await metrics.render());
    const bucket = (kind: string, le: string) => valueOf(parsed, 'size_bytes_bucket', { kind, le });
    assert.deepEqual([bucket('a', '10'), bucket('a', '100'), bucket('a', '+Inf')], [2, 4, 6]);
    assert.deepEqual([bucket('b', '10'), bucket('b', '100'), bucket('b', '+Inf')], [0, 1, 1]);
    assert.equal(valueOf(parsed, 'size_bytes_count', { kind: 'a' }), 6);
    assert.equal(valueOf(parsed, 'size_bytes_sum', { kind: 'a' }), 1 + 10 + 11 + 100 + 101 + 5000);
  });

  await t.test('runs collect before each render so pulled values are current', async () => {
    const metrics = createMetrics();
    let depth = 1;
    metrics.gauge({ name: 'depth', help: 'Depth.', collect: (gauge) => gauge.set({}, depth) });
    assert.equal(valueOf(parseExposition(await metrics.render()), 'depth'), 1);
    depth = 7;
    assert.equal(valueOf(parseExposition(await metrics.render()), 'depth'), 7);
  });

  await t.test('refuses a second family of the same name, wrong labels and a decreasing counter', () => {
    const metrics = createMetrics();
    const counter = metrics.counter({ name: 'c_total', help: 'C.', labelNames: ['a'] });
    assert.throws(() => metrics.gauge({ name: 'c_total', help: 'again' }), /already registered/);
    assert.throws(() => counter.inc({}), /takes labels \[a\]/);
    assert.throws(() => counter.inc({ a: 'x', b: 'y' }), /takes labels \[a\]/);
    assert.throws(() => counter.inc({ a: 'x' }, -1), /only go up/);
    assert.throws(() => metrics.counter({ name: 'bad-name', help: 'x' }), /invalid metric name/);
    assert.throws(() => metrics.histogram({ name: 'h', help: 'x', buckets: [5, 1] }), /ascending/);
  });

  await t.test('keeps two registries apart', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.counter({ name: 'hits_total', help: 'Hits.' }).inc();
    second.counter({ name: 'hits_total', help: 'Hits.' });
    assert.equal(valueOf(parseExposition(await first.render()), 'hits_total'), 1);
    assert.equal(valueOf(parseExposition(await second.render()), 'hits_total'), undefined);
  });
});

test('the exposition parser used by these tests', async (t) => {
  const rejects: [string, string, RegExp][] = [
    ['a sample without HELP and TYPE', 'x 1\n', /outside its family|before HELP/],
    ['a family without HELP', '# TYPE x gauge\nx 1\n', /before HELP and TYPE/],
    ['interleaved families', '# HELP a A\n# TYPE a gauge\na 1\n# HELP b B\n# TYPE b gauge\nb 1\n# HELP a A\n', /contiguous/],
    ['an unknown escape in a label value', '# HELP a A\n# TYPE a gauge\na{l="\\t"} 1\n', /invalid escape/],
    ['an unquoted label value', '# HELP a A\n# TYPE a gauge\na{l=x} 1\n', /quoted/],
    ['a repeated series', '# HELP a A\n# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n', /duplicate series/],
    ['a value that is not a number', '# HELP a A\n# TYPE a gauge\na one\n', /invalid value/],
    ['a missing final line feed', '# HELP a A\n# TYPE a gauge\na 1', /line feed/],
    ['a negative counter', '# HELP a_total A\n# TYPE a_total counter\na_total -1\n', /non-negative/],
    [
      'non-cumulative buckets',
      '# HELP h H\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /cumulative/,
    ],
    ['+Inf differing from _count', '# HELP h H\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /equal _count/],
    ['a histogram without +Inf', '# HELP h H\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n', /\+Inf/],
  ];
  for (const [name, text, error] of rejects) {
    await t.test(`rejects ${name}`, () => {
      assert.throws(() => parseExposition(text), error);
    });
  }
});
