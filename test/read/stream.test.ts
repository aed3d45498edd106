// GET /messages/stream through the real server: events for messages stored while connected, a
// reconnect with Last-Event-ID that delivers exactly what was missed, the from and q filters, the
// subscriber cap, a slow consumer cut and resumed, keep-alive comments, and SIGTERM with streams open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message, postWebhook, startService, type Message, type Service } from '../support/service.ts';
import { openStream, type SseEvent } from '../support/sse.ts';

const ids = (events: readonly SseEvent[]) => events.filter((event) => event.event === 'message').map((event) => (JSON.parse(event.data) as Message).message_id);

async function post(service: Service, sent: readonly Message[]): Promise<void> {
  for (const one of sent) assert.equal((await postWebhook(service, one)).status, 200);
}

test('a subscriber receives each message stored while it is connected, as /messages shows it, in storage order', async (t) => {
  const service = await startService(t);
  await post(service, [message('before-1')]);
  const stream = await openStream(service, '/messages/stream');
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  assert.match(String(stream.response.headers['content-type']), /^text\/event-stream/);
  const sent = [message('live-1', { text: 'first' }), message('live-2', { text: null }), message('live-3', { ts: '2024-01-01T00:00:00Z' })];
  await post(service, sent);
  const events = await stream.waitForEvents(3);
  assert.deepEqual(ids(events), ['live-1', 'live-2', 'live-3'], 'stored before connecting is not sent; order is storage order, not ts');
  // Each event's data is the message exactly as /messages lists it.
  const listed = (await (await fetch(`${service.url}/messages?limit=100`)).json()) as { data: Message[] };
  for (const event of events) {
    const sentAs = JSON.parse(event.data) as Message;
    assert.deepEqual(sentAs, listed.data.find((one) => one.message_id === sentAs.message_id));
  }
  for (const event of events) assert.match(event.id ?? '', /^[A-Za-z0-9_-]+$/);
});

test('a reconnect with Last-Event-ID (or ?after=) delivers exactly what was missed, in order, none twice; across a restart too', async (t) => {
  const first = await startService(t);
  const stream = await openStream(first, '/messages/stream');
  await post(first, [message('a-1'), message('a-2')]);
  await stream.waitForEvents(2);
  const resumeFrom = stream.lastEventId();
  stream.close();
  assert.ok(resumeFrom);
  await post(first, [message('missed-1'), message('missed-2')]);
  first.child.kill('SIGTERM');
  await first.exited;

  const second = await startService(t, { dir: first.dir });
  await post(second, [message('after-restart')]);
  for (const [how, path, headers] of [
    ['Last-Event-ID', '/messages/stream', { 'Last-Event-ID': resumeFrom }],
    ['?after=', `/messages/stream?after=${resumeFrom}`, {}],
  ] as const) {
    const resumed = await openStream(second, path, headers);
    t.after(() => resumed.close());
    assert.deepEqual(ids(await resumed.waitForEvents(3)), ['missed-1', 'missed-2', 'after-restart'], how);
  }
  const refused = await fetch(`${second.url}/messages/stream?after=bm90LWEtcG9zaXRpb24`);
  assert.equal(refused.status, 422);
});

test('from and q narrow the stream exactly as they narrow /messages', async (t) => {
  const service = await startService(t);
  const byFrom = await openStream(service, `/messages/stream?from=${encodeURIComponent('+14155550123')}`);
  const byQ = await openStream(service, '/messages/stream?q=InVoIcE');
  t.after(() => [byFrom, byQ].forEach((stream) => stream.close()));
  await post(service, [
    message('f-1', { from: '+14155550123', text: 'hello' }),
    message('f-2', { text: 'your INVOICE is ready' }),
    message('f-3', { from: '+14155550123', text: 'invoice attached' }),
    message('f-4', { text: null }),
    message('f-5', { text: 'ïnvoice is not invoice for q' }),
  ]);
  assert.deepEqual(ids(await byFrom.waitForEvents(2)), ['f-1', 'f-3']);
  assert.deepEqual(ids(await byQ.waitForEvents(3)), ['f-2', 'f-3', 'f-5']);
  const listed = (await (await fetch(`${service.url}/messages?q=InVoIcE`)).json()) as { data: Message[] };
  assert.deepEqual(listed.data.map((m) => m.message_id).sort(), ['f-2', 'f-3', 'f-5']);
});

test('past MAX_STREAMS subscribers a new one gets 503 with Retry-After, and a slot comes back when one leaves', async (t) => {
  const service = await startService(t, { env: { MAX_STREAMS: '2' } });
  const open = [await openStream(service, '/messages/stream'), await openStream(service, '/messages/stream')];
  const third = await fetch(`${service.url}/messages/stream`);
  assert.equal(third.status, 503);
  assert.equal(third.headers.get('retry-after'), '1');
  assert.equal((await service.waitForLog((line) => line.path === '/messages/stream' && line.status === 503)).reason, 'stream_limit');
  open[0]!.close();
  await service.waitForLog((line) => line.path === '/messages/stream' && line.ended === 'client_closed');
  const again = await openStream(service, '/messages/stream');
  assert.equal(again.status, 200);
  for (const stream of [open[1]!, again]) stream.close();
});

test('a consumer that reads too slowly is cut with a final error event, and resumes from its last id without loss', { timeout: 60_000 }, async (t) => {
  const service = await startService(t, { env: { STREAM_BUFFER_BYTES: '16384' } });
  const stream = await openStream(service, '/messages/stream');
  t.after(() => stream.close());
  // It stops reading: the kernel's buffers fill, then the service's own.
  stream.response.pause();
  const wide = '\u0001'.repeat(4096);
  const sent = Array.from({ length: 400 }, (_, n) => message(`wide-${String(n).padStart(3, '0')}`, { text: wide }));
  await post(service, sent);
  const line = await service.waitForLog((entry) => entry.path === '/messages/stream' && entry.ended === 'slow_consumer');
  assert.ok(Number(line.events) < sent.length);
  stream.response.resume();
  await stream.ended;
  const last = stream.events.at(-1);
  assert.equal(last?.event, 'error');
  assert.match(last?.data ?? '', /too slow/);
  const received = ids(stream.events);
  const resumed = await openStream(service, '/messages/stream', { 'Last-Event-ID': stream.lastEventId() ?? '' });
  t.after(() => resumed.close());
  const rest = ids(await resumed.waitForEvents(sent.length - received.length));
  assert.deepEqual([...received, ...rest], sent.map((one) => one.message_id));
});

test('a quiet stream gets a keep-alive comment every STREAM_HEARTBEAT_S', async (t) => {
  const service = await startService(t, { env: { STREAM_HEARTBEAT_S: '1' } });
  const stream = await openStream(service, '/messages/stream');
  t.after(() => stream.close());
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.ok(stream.comments.filter((comment) => comment === 'keep-alive').length >= 2);
  assert.equal(stream.events.length, 0);
});

test('SIGTERM ends every open stream at once, and the service exits 0 within its grace period', async (t) => {
  const service = await startService(t);
  const streams = [await openStream(service, '/messages/stream'), await openStream(service, '/messages/stream?from=%2B1')];
  service.child.kill('SIGTERM');
  await Promise.all(streams.map((stream) => stream.ended));
  assert.equal(await service.exited, 0);
  // Ended by the shutdown itself, each with its log line: not cut by the grace period's timer,
  // which would have destroyed the connections and logged nothing of the sort.
  assert.equal(service.logs.filter((line) => line.path === '/messages/stream' && line.ended === 'shutdown').length, 2);
});
