import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getJson, message, postAll, postWebhook, startService } from '../support/service.ts';

const sender = (n: number) => `+9100000000${String(n).padStart(2, '0')}`;

test('GET /stats answers an empty database with zeros, an empty list and nulls', async (t) => {
  const service = await startService(t);
  const reply = await getJson(service, '/stats');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, {
    total_messages: 0,
    senders_count: 0,
    messages_per_sender: [],
    first_message_ts: null,
    last_message_ts: null,
  });
});

test('GET /stats', async (t) => {
  const service = await startService(t);
  // Twelve senders, posted busiest-last and with ids unrelated to order: counts 3,3,3 then 2 x5
  // then 1 x4. Ties must come out by sender ascending, and only ten are listed.
  const counts = new Map([
    [sender(12), 3], [sender(3), 3], [sender(7), 3],
    [sender(11), 2], [sender(1), 2], [sender(9), 2], [sender(5), 2], [sender(2), 2],
    [sender(10), 1], [sender(4), 1], [sender(8), 1], [sender(6), 1],
  ]);
  // Timestamps out of arrival order: the earliest instant arrives in the middle, and the latest
  // (.5Z) sorts before its whole-second neighbour as text.
  const sent = [...counts].flatMap(([from, count], s) =>
    Array.from({ length: count }, (_, k) => message(`s${s}-${k}`, { from, ts: `2025-03-0${2 + ((s + k) % 5)}T12:00:00Z` })),
  );
  sent.splice(7, 0, message('earliest', { from: sender(4), ts: '2025-03-01T23:59:59.000Z' }));
  sent.splice(3, 0, message('latest', { from: sender(4), ts: '2025-03-07T00:00:00.5Z' }));
  sent.push(message('whole-second', { from: sender(6), ts: '2025-03-07T00:00:00Z' }));
  counts.set(sender(4), 3);
  counts.set(sender(6), 2);
  await postAll(service, sent);

  const expected = {
    total_messages: sent.length,
    senders_count: 12,
    messages_per_sender: [
      { from: sender(3), count: 3 },
      { from: sender(4), count: 3 },
      { from: sender(7), count: 3 },
      { from: sender(12), count: 3 },
      { from: sender(1), count: 2 },
      { from: sender(2), count: 2 },
      { from: sender(5), count: 2 },
      { from: sender(6), count: 2 },
      { from: sender(9), count: 2 },
      { from: sender(11), count: 2 },
    ],
    first_message_ts: '2025-03-01T23:59:59.000Z',
    last_message_ts: '2025-03-07T00:00:00.5Z',
  };

  await t.test('counts every message and every sender, and lists the top ten by count then sender', async () => {
    const reply = await getJson(service, '/stats');
    assert.equal(reply.status, 200);
    assert.deepEqual(Object.keys(reply.body), Object.keys(expected));
    assert.deepEqual(reply.body, expected);
    assert.equal(sent.length, [...counts.values()].reduce((sum, n) => sum + n, 0));
  });

  await t.test('agrees with what /messages lists', async () => {
    const all = await getJson(service, '/messages?limit=100');
    assert.equal(all.body.total, expected.total_messages);
    const listed = all.body.data ?? assert.fail('a listing');
    assert.equal(listed[0]?.ts, expected.first_message_ts);
    assert.equal(listed.at(-1)?.ts, expected.last_message_ts);
    for (const { from, count } of expected.messages_per_sender) {
      assert.equal((await getJson(service, `/messages?from=${encodeURIComponent(from)}`)).body.total, count);
    }
  });

  await t.test('changes no figure when duplicates arrive, whatever they carry', async () => {
    const duplicates = [
      message('earliest', { from: sender(99), ts: '2020-01-01T00:00:00Z' }),
      message('latest', { from: sender(4), ts: '2030-01-01T00:00:00Z' }),
      message('s0-0', { from: sender(1), text: 'again' }),
    ];
    for (const duplicate of duplicates) assert.equal((await postWebhook(service, duplicate)).status, 200);
    assert.deepEqual((await getJson(service, '/stats')).body, expected);
    assert.equal((await getJson(service, `/messages?from=${encodeURIComponent(sender(99))}`)).body.total, 0);
  });

  await t.test('moves with a new message: its sender climbs and the last instant follows', async () => {
    await postAll(service, [message('newest', { from: sender(2), ts: '2025-03-08T00:00:00Z' })]);
    const reply = await getJson(service, '/stats');
    assert.equal(reply.body.total_messages, expected.total_messages + 1);
    assert.equal(reply.body.senders_count, 12);
    assert.deepEqual((reply.body.messages_per_sender ?? assert.fail('stats')).slice(0, 5), [
      { from: sender(2), count: 3 }, ...expected.messages_per_sender.slice(0, 4),
    ]);
    assert.equal(reply.body.last_message_ts, '2025-03-08T00:00:00Z');
    assert.equal(reply.body.first_message_ts, expected.first_message_ts);
  });

  await t.test('answers another method with 405 and Allow', async () => {
    const response = await fetch(`${service.url}/stats`, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
    assert.equal((await getJson(service, '/stats')).body.total_messages, expected.total_messages + 1);
  });
});
