import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { STORE_FAMILY_HELP } from '../../src/store/store-metrics.ts';
import type { Backend } from '../support/backend.ts';
import { parseExposition, valueOf, type Exposition } from '../support/exposition.ts';
import { message, postWebhook, startService, storedRows, type Service } from '../support/service.ts';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const REQUIRED_BUCKETS_MS = ['5', '10', '25', '50', '100', '250', '500', '1000', '+Inf'];
/** The families only one backend has: its search index and reader threads, or its pools. */
const BACKEND_FAMILIES: Record<Backend, Record<string, string>> = {
  sqlite: {
    search_index_backlog_messages: 'gauge',
    read_cpu_seconds_total: 'counter',
    reader_threads_replaced_total: 'counter',
  },
  postgres: {
    postgres_pool_size: 'gauge',
    postgres_pool_waiting: 'gauge',
    postgres_pool_connections: 'gauge',
    postgres_write_retries_total: 'counter',
    postgres_connection_errors_total: 'counter',
  },
};

async function scrapeText(service: Service): Promise<string> {
  const response = await fetch(`${service.url}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), CONTENT_TYPE);
  return response.text();
}

const scrape = async (service: Service): Promise<Exposition> => parseExposition(await scrapeText(service));

const seriesKey = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(Object.entries(labels).sort())}`;

/** Every counter series whose value changed between two scrapes, with the change. */
function counterChanges(before: Exposition, after: Exposition): Record<string, number> {
  const changes: Record<string, number> = {};
  for (const family of after.values()) {
    if (family.type !== 'counter' || family.name.startsWith('process_')) continue;
    for (const sample of family.samples) {
      const change = sample.value - (valueOf(before, sample.name, sample.labels) ?? 0);
      if (change !== 0) changes[seriesKey(sample.name, sample.labels)] = change;
    }
  }
  return changes;
}

test('GET /metrics', async (t) => {
  const startedAt = Date.now() / 1000;
  const service = await startService(t, { env: { MAX_BODY_BYTES: '4096' } });

  await t.test('answers the text exposition, every line valid, with the promised families', async () => {
    const exposition = await scrape(service);
    const types = Object.fromEntries([...exposition.values()].map((family) => [family.name, family.type]));
    assert.deepEqual(types, {
      ...BACKEND_FAMILIES[service.backend],
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      process_start_time_seconds: 'gauge',
      process_open_fds: 'gauge',
      nodejs_eventloop_delay_seconds: 'histogram',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_eventloop_lag_p50_seconds: 'gauge',
      nodejs_eventloop_lag_p90_seconds: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      nodejs_eventloop_lag_max_seconds: 'gauge',
      write_batch_size: 'histogram',
      write_batches_failed_total: 'counter',
      write_queue_limit: 'gauge',
      write_queue_rejected_total: 'counter',
      write_queue_depth: 'gauge',
      database_size_bytes: 'gauge',
      tombstones: 'gauge',
      messages_stored: 'gauge',
      messages_erased_total: 'counter',
      http_answer_bytes_buffered: 'gauge',
      read_refused_total: 'counter',
      stream_subscribers: 'gauge',
      stream_events_total: 'counter',
      streams_closed_total: 'counter',
      webhook_body_bytes_buffered: 'gauge',
      webhook_signature_key_total: 'counter',
      webhook_ignored_total: 'counter',
      webhook_items_skipped_total: 'counter',
      webhook_requests_total: 'counter',
      http_requests_total: 'counter',
      request_latency_ms: 'histogram',
      http_request_duration_seconds: 'histogram',
      http_connections_dropped_total: 'counter',
    });
    for (const family of exposition.values()) assert.ok(family.help !== undefined && family.help.length > 0, family.name);
    // The families of what the store holds read the same, word for word, on either backend.
    for (const [name, help] of Object.entries(STORE_FAMILY_HELP)) assert.equal(exposition.get(name)?.help, help, name);
  });

  const webhookRequest = (body: unknown, options: Parameters<typeof postWebhook>[2] = {}) => () => postWebhook(service, body, options);
  const http = (method: string, path: string, status: string) => seriesKey('http_requests_total', { method, path, status });
  const result = (name: string) => seriesKey('webhook_requests_total', { source: 'webhook', result: name });
  // A verified request also counts which key of the source's list matched.
  const firstKey = seriesKey('webhook_signature_key_total', { source: 'webhook', key: '0' });
  const cases: [string, () => Promise<{ status: number }>, number, string[]][] = [
    ['a stored message', webhookRequest(message('metrics-1')), 200, [http('POST', '/webhook', '200'), firstKey, result('created')]],
    ['a duplicate', webhookRequest(message('metrics-1')), 200, [http('POST', '/webhook', '200'), firstKey, result('duplicate')]],
    ['a bad signature', webhookRequest(message('metrics-2'), { signature: null }), 401, [http('POST', '/webhook', '401'), result('invalid_signature')]],
    ['an invalid payload', webhookRequest({ text: 5 }), 422, [http('POST', '/webhook', '422'), firstKey, result('validation_error')]],
    ['an oversized body', webhookRequest(message('metrics-3', { text: 'x'.repeat(5000) })), 413, [http('POST', '/webhook', '413'), result('payload_too_large')]],
    [
      'a non-JSON content type',
      webhookRequest(message('metrics-4'), { headers: { 'Content-Type': 'text/plain' } }),
      415,
      [http('POST', '/webhook', '415'), result('unsupported_media_type')],
    ],
    ['an unknown path with a query', () => fetch(`${service.url}/nope?x=1`), 404, [http('GET', 'unmatched', '404')]],
    ['another unknown path, counted in the same series', () => fetch(`${service.url}/other/path`), 404, [http('GET', 'unmatched', '404')]],
    ['a wrong method', () => fetch(`${service.url}/webhook`), 405, [http('GET', '/webhook', '405')]],
    ['an unusual method, counted as OTHER', () => fetch(`${service.url}/webhook`, { method: 'PROPFIND' }), 405, [http('OTHER', '/webhook', '405')]],
    ['a probe', () => fetch(`${service.url}/health/live`), 200, [http('GET', '/health/live', '200')]],
  ];
  for (const [name, send, status, moved] of cases) {
    await t.test(`moves exactly the counters of ${name} by one`, async () => {
      const before = await scrape(service);
      assert.equal((await send()).status, status);
      const after = await scrape(service);
      // The first scrape is counted once it has been answered, so it shows in the second.
      const expected = Object.fromEntries([...moved, http('GET', '/metrics', '200')].map((key) => [key, 1]));
      assert.deepEqual(counterChanges(before, after), expected);
    });
  }

  await t.test('counts every request in both latency histograms, with the same buckets filled', async () => {
    const exposition = await scrape(service);
    const requests = exposition.get('http_requests_total')?.samples ?? [];
    const paths = new Set(requests.map((sample) => sample.labels.path as string));
    assert.deepEqual(paths, new Set(['/webhook', 'unmatched', '/health/live', '/metrics']));
    // The requests the cases above sent: six POSTs, a GET and a PROPFIND to /webhook, two unknown paths, one probe.
    assert.equal(valueOf(exposition, 'request_latency_ms_count', { path: '/webhook' }), 8);
    assert.equal(valueOf(exposition, 'request_latency_ms_count', { path: 'unmatched' }), 2);
    assert.equal(valueOf(exposition, 'request_latency_ms_count', { path: '/health/live' }), 1);
    // Each latency is recorded as it was, not as zero: a stored message took at least its commit.
    assert.ok((valueOf(exposition, 'request_latency_ms_sum', { path: '/webhook' }) as number) > 0);
    assert.ok((valueOf(exposition, 'http_request_duration_seconds_sum', { path: '/webhook' }) as number) > 0);
    for (const path of paths) {
      const seen = requests.filter((sample) => sample.labels.path === path).reduce((sum, sample) => sum + sample.value, 0);
      assert.equal(valueOf(exposition, 'request_latency_ms_count', { path }), seen, path);
      assert.equal(valueOf(exposition, 'http_request_duration_seconds_count', { path }), seen, path);
      const msBuckets = bucketsOf(exposition, 'request_latency_ms', path);
      const secondBuckets = bucketsOf(exposition, 'http_request_duration_seconds', path);
      for (const le of REQUIRED_BUCKETS_MS) assert.ok(msBuckets.some(([bound]) => bound === le), `bucket le="${le}"`);
      const inSeconds = msBuckets.map(([le, count]) => [le === '+Inf' ? le : String(Number(le) / 1000), count]);
      assert.deepEqual(secondBuckets, inSeconds);
    }
  });

  await t.test('reports the messages stored and the database size', async () => {
    const exposition = await scrape(service);
    assert.equal(valueOf(exposition, 'messages_stored'), (await storedRows(service)).length);
    assert.equal((await storedRows(service)).length, 1);
    if (service.backend === 'postgres') {
      // pg_database_size, of a database other tests write to at the same time: no exact figure to compare.
      assert.ok((valueOf(exposition, 'database_size_bytes') as number) > 0);
      return;
    }
    const db = new DatabaseSync(service.dbPath, { readOnly: true });
    try {
      const pages = db.prepare('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()').get() as { bytes: number };
      assert.equal(valueOf(exposition, 'database_size_bytes'), pages.bytes);
    } finally {
      db.close();
    }
  });

  await t.test('reports the write queue, and one batch per message posted alone', async () => {
    const exposition = await scrape(service);
    assert.equal(valueOf(exposition, 'write_queue_depth'), 0);
    assert.equal(valueOf(exposition, 'write_queue_limit'), 1000);
    assert.equal(valueOf(exposition, 'write_queue_rejected_total'), 0);
    assert.equal(valueOf(exposition, 'write_batches_failed_total'), 0);
    // The stored message and its duplicate reached the store, one after the other.
    assert.equal(valueOf(exposition, 'write_batch_size_count'), 2);
    assert.equal(valueOf(exposition, 'write_batch_size_sum'), 2);
    assert.equal(valueOf(exposition, 'write_batch_size_bucket', { le: '1' }), 2);
  });

  await t.test('reports plausible process figures', async () => {
    const exposition = await scrape(service);
    const value = (name: string) => valueOf(exposition, name) as number;
    assert.ok(value('process_cpu_seconds_total') > 0);
    assert.ok(value('process_resident_memory_bytes') > 0);
    assert.ok(value('process_start_time_seconds') >= startedAt - 1 && value('process_start_time_seconds') <= Date.now() / 1000);
    if (existsSync('/proc/self/fd')) assert.ok(value('process_open_fds') >= 3);
    const lag = ['p50', 'p90', 'p99', 'max'].map((q) => value(`nodejs_eventloop_lag_${q}_seconds`));
    assert.ok(lag.every((seconds) => seconds >= 0));
    assert.deepEqual(lag, [...lag].sort((a, b) => a - b), 'quantiles ascend');
  });

  await t.test('keeps event-loop figures since the start: a scrape resets nothing, so no scraper hides a stall from another', async () => {
    const figures = async () => {
      const exposition = await scrape(service);
      return {
        samples: valueOf(exposition, 'nodejs_eventloop_delay_seconds_count') as number,
        max: valueOf(exposition, 'nodejs_eventloop_lag_max_seconds') as number,
      };
    };
    const seen = [await figures()];
    for (let n = 0; n < 3; n++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      seen.push(await figures());
    }
    // A timer due every 10 ms: a few samples between scrapes, and never fewer than before.
    for (let n = 1; n < seen.length; n++) {
      assert.ok((seen[n] as { samples: number }).samples > (seen[n - 1] as { samples: number }).samples, 'samples only grow');
      assert.ok((seen[n] as { max: number }).max >= (seen[n - 1] as { max: number }).max, 'the longest delay is never forgotten');
    }
  });

  await t.test('passes promtool check metrics, with only the compatibility name flagged', async (t) => {
    const text = await scrapeText(service);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error !== undefined) return t.skip('promtool is not installed (Debian package prometheus)');
    const findings = `${promtool.stdout}${promtool.stderr}`.split('\n').filter((line) => line.trim() !== '');
    assert.deepEqual(findings, ['request_latency_ms metric names should not contain abbreviated units']);
  });
});

/** The [le, count] pairs of one histogram series, in exposition order. */
function bucketsOf(exposition: Exposition, name: string, path: string): [string, number][] {
  const buckets = exposition.get(name)?.samples.filter((s) => s.name === `${name}_bucket` && s.labels.path === path) ?? [];
  return buckets.map((s) => [s.labels.le as string, s.value]);
}
