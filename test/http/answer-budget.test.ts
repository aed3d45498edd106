// The bytes of answers not yet taken by their clients are bounded over all connections
// (MAX_BUFFERED_ANSWER_BYTES): clients that ask for large pages and never read cannot hold the
// memory. Past the budget a large answer is a 503 with Retry-After; once they go, it comes back.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { parseExposition, valueOf } from '../support/exposition.ts';
import { openSocket } from '../support/raw-socket.ts';
import { getJson, message, postAll, startService, type Service } from '../support/service.ts';

const MIB = 1024 * 1024;

const buffered = async (service: Service) =>
  valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'http_answer_bytes_buffered') ?? NaN;

/**
 * Asks for full pages, pipelined, on a connection that never reads: the kernel's socket buffers
 * take the first few megabytes, and each page after that waits in the service's memory.
 */
async function neverReads(service: Service): Promise<Socket> {
  const socket = await openSocket(service);
  socket.pause();
  socket.write('GET /messages?limit=100 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(12));
  return socket;
}

test('clients that never read hold at most MAX_BUFFERED_ANSWER_BYTES; past it a page is a 503, and the budget comes back when they go', async (t) => {
  const service = await startService(t, { env: { MAX_PAGE_BYTES: String(MIB), MAX_BUFFERED_ANSWER_BYTES: String(2 * MIB) } });
  // 100 texts of 4,096 control characters: 2.4 MB of JSON unbounded, a 1 MiB page as served.
  await postAll(service, Array.from({ length: 100 }, (_, n) => message(`wide-${n}`, { text: '\u0001'.repeat(4096) })));

  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((socket) => socket.destroy()));
  // Each page the kernel cannot take at once stays charged; keep asking until the budget is held.
  for (let attempt = 0; attempt < 4 && (await buffered(service)) <= MIB; attempt++) {
    sockets.push(await neverReads(service));
    // Until its answers stop going out: a page handed to the kernel is no longer charged.
    for (let wait = 0; wait < 50; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const held = await buffered(service);
  assert.ok(held > MIB && held <= 2 * MIB, `held ${held}`);

  const refused = await getJson(service, '/messages?limit=100');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await service.waitForLog((line) => line.path === '/messages' && line.status === 503)).reason, 'answer_budget');
  // Small answers still go.
  assert.equal((await getJson(service, '/stats')).status, 200);

  for (const socket of sockets.splice(0)) socket.destroy();
  for (let attempt = 0; attempt < 100 && (await buffered(service)) > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await buffered(service), 0);
  const served = await getJson(service, '/messages?limit=100');
  assert.equal(served.status, 200);
  assert.ok(served.headers.get('link'), 'a cut page links to the rest');
});
