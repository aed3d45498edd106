import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getJson, idsOf, issueLocations, message, nextLink, postAll, postWebhook, startService, walk, type Message, type Service } from '../support/service.ts';

const A = '+911111111111';
const B = '+922222222222';
const C = '+933333333333';

// Posted in this (scrambled) order; the listing order is by instant, then message_id:
// m07 m04 m01 m03 m02 m05 m06 m08. m01 and m03 are one instant spelled two ways; m02 (.5Z) is
// later than both although as text it sorts before them.
const FIXTURE: Message[] = [
  message('m05', { from: B, ts: '2025-01-16T08:00:00Z', text: 'under_score and 50%' }),
  message('m01', { from: A, ts: '2025-01-15T10:00:00Z', text: 'Hello World' }),
  message('m08', { from: B, ts: '2025-01-17T00:00:00Z', text: '1000 sure things' }),
  message('m02', { from: B, ts: '2025-01-15T10:00:00.5Z', text: 'hello again' }),
  message('m06', { from: A, ts: '2025-01-16T08:00:00Z', text: null }),
  message('m03', { from: A, ts: '2025-01-15T10:00:00.000Z', text: 'Same instant as m01: underXscore' }),
  message('m07', { from: C, ts: '2025-01-14T23:00:00Z', text: 'HELLO from C' }),
  message('m04', { from: C, ts: '2025-01-15T09:59:59.999999999Z', text: '100% sure' }),
];
const IN_ORDER = ['m07', 'm04', 'm01', 'm03', 'm02', 'm05', 'm06', 'm08'];

/** The query string for these parameters, encoded as a careful client does ("+" as %2B). */
function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)])).toString();
}

async function list(service: Service, params: Record<string, string | number> = {}) {
  return getJson(service, `/messages?${query(params)}`);
}


test('GET /messages', async (t) => {
  const service = await startService(t);

  await t.test('answers an empty database with no data, total 0 and the defaults', async () => {
    const reply = await list(service);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { data: [], total: 0, limit: 50, offset: 0 });
    assert.equal(reply.headers.get('link'), null);
  });

  await postAll(service, FIXTURE);

  await t.test('lists every message by instant then message_id, each exactly as it was sent', async () => {
    const reply = await list(service);
    assert.equal(reply.status, 200);
    assert.deepEqual(Object.keys(reply.body), ['data', 'total', 'limit', 'offset']);
    assert.deepEqual(idsOf(reply.body), IN_ORDER);
    assert.equal(reply.body.total, 8);
    assert.equal(reply.body.limit, 50);
    assert.equal(reply.body.offset, 0);
    const byId = new Map(FIXTURE.map((sent) => [sent.message_id, sent]));
    for (const item of reply.body.data ?? assert.fail('a listing')) {
      assert.deepEqual(Object.keys(item), ['message_id', 'from', 'to', 'ts', 'text']);
      assert.deepEqual(item, byId.get(item.message_id));
    }
    assert.equal(reply.headers.get('link'), null);
  });

  await t.test('orders equal instants by message_id, whatever the arrival order or spelling', async () => {
    const reply = await list(service, { since: '2025-01-15T10:00:00Z', limit: 2 });
    assert.deepEqual(idsOf(reply.body), ['m01', 'm03']);
  });

  await t.test('counts every match in total, ignoring limit and offset', async () => {
    const reply = await list(service, { limit: 2, offset: 1 });
    assert.deepEqual(idsOf(reply.body), ['m04', 'm01']);
    assert.equal(reply.body.total, 8);
    assert.equal(reply.body.limit, 2);
    assert.equal(reply.body.offset, 1);
  });

  await t.test('accepts the limit boundaries 1 and 100', async () => {
    assert.deepEqual(idsOf((await list(service, { limit: 1 })).body), ['m07']);
    assert.deepEqual(idsOf((await list(service, { limit: 100 })).body), IN_ORDER);
  });

  await t.test('answers an offset at or past the end with no data and the full total', async () => {
    for (const offset of [8, 9, 1000]) {
      const reply = await list(service, { offset });
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, { data: [], total: 8, limit: 50, offset });
      assert.equal(reply.headers.get('link'), null);
    }
    assert.deepEqual(idsOf((await list(service, { offset: 7 })).body), ['m08']);
  });

  await t.test('filters by exact sender', async () => {
    const reply = await list(service, { from: A });
    assert.deepEqual(idsOf(reply.body), ['m01', 'm03', 'm06']);
    assert.equal(reply.body.total, 3);
    const partial = await list(service, { from: A.slice(0, 6) });
    assert.deepEqual(partial.body, { data: [], total: 0, limit: 50, offset: 0 });
  });

  await t.test('reads an unencoded "+" in from as a space, as every query string does', async () => {
    const reply = await getJson(service, `/messages?from=${A}`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { data: [], total: 0, limit: 50, offset: 0 });
    assert.deepEqual(idsOf((await getJson(service, `/messages?from=%2B${A.slice(1)}`)).body), ['m01', 'm03', 'm06']);
  });

  await t.test('includes messages exactly at since, comparing instants rather than text', async () => {
    const after = ['m01', 'm03', 'm02', 'm05', 'm06', 'm08'];
    assert.deepEqual(idsOf((await list(service, { since: '2025-01-15T10:00:00Z' })).body), after);
    assert.deepEqual(idsOf((await list(service, { since: '2025-01-15T10:00:00.000000Z' })).body), after);
    const reply = await list(service, { since: '2025-01-15T10:00:00.000000001Z' });
    assert.deepEqual(idsOf(reply.body), ['m02', 'm05', 'm06', 'm08']);
    assert.equal(reply.body.total, 4);
    assert.deepEqual(idsOf((await list(service, { since: '2025-01-15T09:59:59.999999999Z' })).body), ['m04', ...after]);
    assert.deepEqual((await list(service, { since: '2025-01-17T00:00:00.1Z' })).body.total, 0);
  });

  await t.test('searches text case-insensitively with q, through the index and without it', async () => {
    for (const q of ['hello', 'HELLO', 'hElLo']) {
      const reply = await list(service, { q });
      assert.deepEqual(idsOf(reply.body), ['m07', 'm01', 'm02'], q);
      assert.equal(reply.body.total, 3);
    }
    assert.deepEqual(idsOf((await list(service, { q: 'LO wOR' })).body), ['m01']);
    // Shorter than a trigram: every text is checked instead of the index.
    assert.deepEqual(idsOf((await list(service, { q: 'He' })).body), ['m07', 'm01', 'm02']);
    assert.deepEqual(idsOf((await list(service, { q: 'c' })).body), ['m07', 'm03', 'm05']);
  });

  await t.test('matches % and _ in q literally, never as wildcards', async () => {
    assert.deepEqual(idsOf((await list(service, { q: '%' })).body), ['m04', 'm05']);
    assert.deepEqual(idsOf((await list(service, { q: '_' })).body), ['m05']);
    assert.deepEqual(idsOf((await list(service, { q: '100% sure' })).body), ['m04']);
    assert.deepEqual(idsOf((await list(service, { q: 'under_score' })).body), ['m05']);
    assert.deepEqual(idsOf((await list(service, { q: '0%' })).body), ['m04', 'm05']);
  });

  await t.test('never matches a message with null text, even with an empty q', async () => {
    const reply = await list(service, { q: '' });
    assert.deepEqual(idsOf(reply.body), IN_ORDER.filter((id) => id !== 'm06'));
    assert.equal(reply.body.total, 7);
    assert.equal((await list(service, { q: 'null' })).body.total, 0);
  });

  await t.test('combines filters with AND', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ from: B, q: 'hello' }, ['m02']],
      [{ from: A, since: '2025-01-15T10:00:00.000Z' }, ['m01', 'm03', 'm06']],
      [{ from: C, since: '2025-01-15T00:00:00Z' }, ['m04']],
      [{ since: '2025-01-15T10:00:00.1Z', q: 'hello' }, ['m02']],
      [{ since: '2025-01-15T10:00:00.1Z', q: 'e' }, ['m02', 'm05', 'm08']],
      [{ from: B, since: '2025-01-16T00:00:00Z', q: 'SURE' }, ['m08']],
      [{ from: A, since: '2025-01-16T00:00:00Z', q: 'hello' }, []],
    ];
    for (const [params, expected] of cases) {
      const reply = await list(service, params);
      assert.equal(reply.status, 200);
      assert.deepEqual(idsOf(reply.body), expected, JSON.stringify(params));
      assert.equal(reply.body.total, expected.length, JSON.stringify(params));
    }
  });

  await t.test('ignores unknown parameters and reads a repeated one by its last value', async () => {
    const reply = await getJson(service, '/messages?limit=1&page=3&q=zzz&sort=desc&limit=2&q=e');
    assert.equal(reply.status, 200);
    assert.deepEqual(idsOf(reply.body), ['m07', 'm04']);
    assert.equal(reply.body.limit, 2);
    const next = new URL(nextLink(reply.headers) as string, service.url).searchParams;
    assert.deepEqual([next.getAll('limit'), next.getAll('q'), next.has('page')], [['2'], ['e'], false]);
  });

  await t.test('walks the whole listing through Link headers, each message exactly once', async () => {
    const { pages } = await walk(service, `/messages?${query({ limit: 3 })}`);
    assert.deepEqual(pages, [['m07', 'm04', 'm01'], ['m03', 'm02', 'm05'], ['m06', 'm08']]);
  });

  await t.test('keeps every filter and the limit in the Link, and drops offset for the cursor', async () => {
    const start = `/messages?${query({ from: B, since: '2025-01-15T10:00:00Z', q: 'e', limit: 1, offset: 0, extra: 'x' })}`;
    const { pages, paths } = await walk(service, start);
    assert.deepEqual(pages, [['m02'], ['m05'], ['m08']]);
    for (const path of paths.slice(1)) {
      const params = new URL(path, service.url).searchParams;
      assert.equal(new URL(path, service.url).pathname, '/messages');
      assert.deepEqual(
        [...params.keys()].sort(),
        ['cursor', 'from', 'limit', 'q', 'since'],
      );
      assert.equal(params.get('from'), B);
      assert.equal(params.get('since'), '2025-01-15T10:00:00Z');
      assert.equal(params.get('q'), 'e');
      assert.match(path, /from=%2B922222222222/);
    }
  });

  await t.test('gives an offset page a Link to the rows after it', async () => {
    const first = await list(service, { limit: 2, offset: 3 });
    assert.deepEqual(idsOf(first.body), ['m03', 'm02']);
    const { pages } = await walk(service, nextLink(first.headers) as string);
    assert.deepEqual(pages, [['m05', 'm06'], ['m08']]);
  });

  await t.test('shows a message stored mid-walk once if it sorts after the cursor, never if before', async (t) => {
    const own = await startService(t);
    await postAll(own, [
      message('w1', { ts: '2025-02-01T00:00:01Z' }),
      message('w2', { ts: '2025-02-01T00:00:02Z' }),
      message('w3', { ts: '2025-02-01T00:00:03Z' }),
    ]);
    const first = await getJson(own, '/messages?limit=2');
    assert.deepEqual(idsOf(first.body), ['w1', 'w2']);
    await postAll(own, [message('w0', { ts: '2025-02-01T00:00:00Z' }), message('w4', { ts: '2025-02-01T00:00:04Z' })]);
    const { pages } = await walk(own, nextLink(first.headers) as string);
    assert.deepEqual(pages, [['w3', 'w4']]);
  });

  const invalid: [string, string, string, string][] = [
    ['limit=0', 'limit', 'greater_than_equal', 'Input should be greater than or equal to 1'],
    ['limit=101', 'limit', 'less_than_equal', 'Input should be less than or equal to 100'],
    ['limit=abc', 'limit', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['limit=', 'limit', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['limit=1.5', 'limit', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['limit=-5', 'limit', 'greater_than_equal', 'Input should be greater than or equal to 1'],
    ['offset=-1', 'offset', 'greater_than_equal', 'Input should be greater than or equal to 0'],
    ['offset=abc', 'offset', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['offset=9007199254740992', 'offset', 'less_than_equal', 'Input should be less than or equal to 9007199254740991'],
    ['since=yesterday', 'since', 'value_error', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z'],
    ['since=', 'since', 'value_error', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z'],
    ['since=2025-02-30T00:00:00Z', 'since', 'value_error', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z'],
    ['since=2025-01-15T10:00:00', 'since', 'value_error', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z'],
    ['since=2025-01-15T10:00:00.1234567891Z', 'since', 'value_error', 'Value error, since must be an ISO-8601 UTC timestamp ending in Z, e.g. 2025-01-15T10:00:00Z'],
    ['cursor=', 'cursor', 'value_error', 'Value error, cursor must be copied unchanged from a Link header of this API'],
    ['cursor=not-a-cursor', 'cursor', 'value_error', 'Value error, cursor must be copied unchanged from a Link header of this API'],
    ['cursor=a%2Bb', 'cursor', 'value_error', 'Value error, cursor must be copied unchanged from a Link header of this API'],
  ];
  for (const [params, name, type, msg] of invalid) {
    await t.test(`answers ${params} with 422 on loc ["query","${name}"]`, async () => {
      const reply = await getJson(service, `/messages?${params}`);
      assert.equal(reply.status, 422);
      assert.deepEqual(reply.body, { detail: [{ loc: ['query', name], msg, type }] });
    });
  }

  await t.test('answers a cursor with a nonzero offset with 422 on loc ["query","offset"], and accepts offset=0', async () => {
    const cursor = new URL(nextLink((await list(service, { limit: 2 })).headers) as string, service.url).searchParams.get('cursor');
    assert.ok(cursor);
    const reply = await list(service, { cursor, offset: 3 });
    assert.equal(reply.status, 422);
    assert.deepEqual(issueLocations(reply.body), [['query', 'offset']]);
    const zero = await list(service, { cursor, offset: 0, limit: 2 });
    assert.equal(zero.status, 200);
    assert.deepEqual(idsOf(zero.body), ['m01', 'm03']);
  });

  await t.test('answers a cursor changed by one character with 422', async () => {
    const cursor = new URL(nextLink((await list(service, { limit: 2 })).headers) as string, service.url).searchParams.get('cursor') as string;
    const tampered = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6);
    const reply = await list(service, { cursor: tampered });
    assert.equal(reply.status, 422);
    assert.deepEqual(issueLocations(reply.body), [['query', 'cursor']]);
  });

  await t.test('lists every problem of one request, one issue each', async () => {
    const reply = await getJson(service, '/messages?limit=0&offset=-1&since=x&cursor=%3F');
    assert.equal(reply.status, 422);
    assert.deepEqual(
      issueLocations(reply.body),
      [['query', 'limit'], ['query', 'offset'], ['query', 'since'], ['query', 'cursor']],
    );
  });

  await t.test('answers another method with 405 and Allow, and changes nothing', async () => {
    const response = await fetch(`${service.url}/messages`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, DELETE, HEAD');
    assert.deepEqual(await response.json(), { detail: 'method not allowed' });
    assert.equal((await list(service)).body.total, 8);
  });
});

test('GET /messages pages a larger table by offset and by cursor alike', async (t) => {
  const service = await startService(t);
  // 57 messages over 19 seconds, three per second: equal instants in every page, ids out of order.
  const sent = Array.from({ length: 57 }, (_, i) =>
    message(`bulk-${String((i * 7) % 57).padStart(2, '0')}`, { ts: `2025-03-01T00:00:${String(Math.floor(i / 3)).padStart(2, '0')}Z` }),
  );
  await postAll(service, sent);
  const expected = [...sent]
    .sort((x, y) => (x.ts === y.ts ? (x.message_id < y.message_id ? -1 : 1) : x.ts < y.ts ? -1 : 1))
    .map((m) => m.message_id);

  await t.test('returns 50 messages by default and counts all 57', async () => {
    const reply = await getJson(service, '/messages');
    assert.equal(idsOf(reply.body).length, 50);
    assert.deepEqual(idsOf(reply.body), expected.slice(0, 50));
    assert.equal(reply.body.total, 57);
    assert.ok(nextLink(reply.headers));
  });

  await t.test('walks by cursor returning each message exactly once, in the same order as offset pages', async () => {
    const { pages } = await walk(service, '/messages?limit=8');
    assert.deepEqual(pages.map((page) => page.length), [8, 8, 8, 8, 8, 8, 8, 1]);
    assert.deepEqual(pages.flat(), expected);
    const byOffset: string[] = [];
    for (let offset = 0; offset < 57; offset += 8) byOffset.push(...idsOf((await getJson(service, `/messages?limit=8&offset=${offset}`)).body));
    assert.deepEqual(byOffset, expected);
  });

  await t.test('ends a walk whose last page is full with no Link', async () => {
    const { pages } = await walk(service, '/messages?limit=19');
    assert.deepEqual(pages.map((page) => page.length), [19, 19, 19]);
  });

  await t.test('leaves every page unchanged after a duplicate post with other fields', async () => {
    const before = await getJson(service, '/messages?limit=100');
    assert.equal((await postWebhook(service, message('bulk-00', { ts: '2020-01-01T00:00:00Z', text: 'changed' }))).status, 200);
    assert.deepEqual((await getJson(service, '/messages?limit=100')).body, before.body);
  });
});
