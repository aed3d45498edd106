import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { signBody } from '../src/ingest/schemes/x-signature.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { message, postWebhook, runToExit, SECRET, startService, storedRows, type Service } from './support/service.ts';

test('GET /health/live answers 200 {"status":"live"}', async (t) => {
  const service = await startService(t);
  const response = await fetch(`${service.url}/health/live`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'live' });
});

test('GET /health/ready answers 200 {"status":"ready"} with a secret and a database', async (t) => {
  const service = await startService(t);
  const response = await fetch(`${service.url}/health/ready`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ready' });
});

test('without WEBHOOK_SECRET the service starts, fails closed and is not ready', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_SECRET: '' } });
  assert.ok(service.logs.some((line) => line.level === 'ERROR' && String(line.msg).includes('WEBHOOK_SECRET')));

  const reply = await postWebhook(service, message('unconfigured-1'), { secret: '' });
  assert.equal(reply.status, 503);
  assert.deepEqual(reply.body, { detail: 'webhook secret not configured' });
  assert.deepEqual(storedRows(service.dbPath), []);

  const ready = await fetch(`${service.url}/health/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'not_ready', checks: { webhook_secret: 'missing', database: 'ok' } });
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('an unknown path answers 404 {"detail":"not found"} in JSON', async (t) => {
  const service = await startService(t);
  for (const path of ['/', '/nope', '/webhook/', '/health', '/WEBHOOK']) {
    const response = await fetch(`${service.url}${path}`);
    assert.equal(response.status, 404, path);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { detail: 'not found' });
  }
});

test('a wrong method on a known path answers 405 with Allow', async (t) => {
  const service = await startService(t);
  const cases: [string, string, string][] = [
    ['GET', '/webhook', 'POST'],
    ['PUT', '/webhook', 'POST'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['DELETE', '/health/ready', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${service.url}${path}`, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get('allow'), allow);
    assert.deepEqual(await response.json(), { detail: 'method not allowed' });
  }
});

test('a message acknowledged before kill -9 is stored after a restart on the same file', async (t) => {
  const first = await startService(t);
  const ids = Array.from({ length: 20 }, (_, i) => `crash-${i}`);
  for (const id of ids) assert.equal((await postWebhook(first, message(id))).status, 200);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');

  const second = await startService(t, { dir: first.dir });
  assert.deepEqual(storedRows(second.dbPath).map((row) => row.message_id).sort(), [...ids].sort());
  assert.equal((await postWebhook(second, message('crash-0'))).status, 200);
  assert.equal(storedRows(second.dbPath).length, ids.length);
});

test('SIGTERM lets in-flight requests finish, then exits 0 with the database closed', async (t) => {
  const service = await startService(t);
  // Start three requests and send only half of each body, so they are in flight for certain.
  const inFlight = ['term-1', 'term-2', 'term-3'].map((id) => startSlowPost(service, JSON.stringify(message(id))));
  await Promise.all(inFlight.map((post) => post.headersSent));
  service.child.kill('SIGTERM');
  await service.waitForLog((line) => line.msg === 'shutting down');
  for (const post of inFlight) post.finish();

  const replies = await Promise.all(inFlight.map((post) => post.reply));
  assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200]);
  assert.equal(await service.exited, 0);
  assert.ok(service.logs.some((line) => line.msg === 'stopped'));
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['term-1', 'term-2', 'term-3']);
});

test('SIGINT also stops the service with exit code 0', async (t) => {
  const service = await startService(t);
  service.child.kill('SIGINT');
  assert.equal(await service.exited, 0);
});

function startSlowPost(service: Service, raw: string) {
  const data = Buffer.from(raw);
  const half = Math.floor(data.length / 2);
  // Expect: 100-continue makes the server confirm it has parsed the headers: from the moment the
  // client sees "100 Continue", the request is in flight on the server, not just in a socket buffer.
  const req = request(`${service.url}/webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': data.length,
      'X-Signature': signBody(SECRET, data),
      Expect: '100-continue',
    },
  });
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  const headersSent = new Promise<void>((resolve) => {
    req.on('continue', () => req.write(data.subarray(0, half), () => resolve()));
  });
  return { headersSent, reply, finish: () => req.end(data.subarray(half)) };
}

test('a request the HTTP parser rejects gets a JSON 400 and a log line, and the service keeps serving', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /Content-Type: application\/json/);
  // The same headers as the app's own answers.
  assert.match(answer, /\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n/);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  assert.ok(requestId);
  await service.waitForLog((line) => line.msg === 'client error' && line.status === 400 && line.request_id === requestId);
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('a client that stops mid-body and closes its side gets 400 request body incomplete, one log line, nothing stored', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('cut-off-1')));
  const head =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nX-Request-ID: cut-off-request\r\n\r\n`;
  // Half the body, then the end of what this client sends: the parser sees the stream end mid-body.
  await assertBodyIncomplete(service, await rawExchange(service, head + body.subarray(0, 20).toString()), 'cut-off-request');
  assert.deepEqual(storedRows(service.dbPath), []);
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
});

test('a malformed chunk mid-body gets 400 request body incomplete and one log line', async (t) => {
  const service = await startService(t);
  const head =
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n' +
    'X-Signature: 00\r\nX-Request-ID: bad-chunk-request\r\n\r\n';
  await assertBodyIncomplete(service, await rawExchange(service, head + '5\r\n{"a":\r\nnot-a-size\r\n'), 'bad-chunk-request');
});

test('a malformed body on a pipelined request is answered after the request before it, in order', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('pipelined-1')));
  const first =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  const second =
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n' +
    'X-Signature: 00\r\nX-Request-ID: pipelined-bad\r\n\r\n5\r\n{"a":\r\nnot-a-size\r\n';
  // Both in one write: the parser meets the bad chunk while the first message is still committing.
  const answer = await rawExchange(service, first + second);
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}HTTP\/1\.1 400 [^]*\{"detail":"request body incomplete"\}$/);
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['pipelined-1']);
  // The second waited its turn while its body was rejected: still one line, and counted.
  await assertBodyIncomplete(service, answer.slice(answer.lastIndexOf('HTTP/1.1 400')), 'pipelined-bad');
  const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  assert.equal(valueOf(metrics, 'webhook_requests_total', { result: 'body_incomplete' }), 1);
});

test('a request head cut off by the client is still answered 400 and logged as a client error', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Le');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  assert.ok(requestId);
  await service.waitForLog((line) => line.msg === 'client error' && line.request_id === requestId);
});

test('paths are routed exactly as sent: dot segments, encoded dots and backslashes reach no endpoint', async (t) => {
  const service = await startService(t);
  const paths = ['/x/../metrics', '/x/%2e%2e/metrics', '/%2E%2E/metrics', '/./metrics', '/health\\live', '/x/..%2fmetrics'];
  for (const [index, path] of paths.entries()) {
    const requestId = `raw-path-${index}`;
    const answer = await rawExchange(service, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-ID: ${requestId}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 404 /, path);
    assert.ok(answer.endsWith('{"detail":"not found"}'), path);
    // Logged as sent, percent-encoding kept, so the log shows what the client asked for.
    const line = await service.waitForLog((entry) => entry.request_id === requestId);
    assert.equal(line.path, path);
  }
  assert.equal((await fetch(`${service.url}/metrics`)).status, 200);
});

test('an absolute-form request target is served by its path, exactly as sent', async (t) => {
  const service = await startService(t);
  const live = await rawRequest(service, 'GET http://service.example/health/live HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(live, /^HTTP\/1\.1 200 /);
  assert.ok(live.endsWith('{"status":"live"}'));
  const listing = await rawRequest(service, 'GET HTTP://service.example/messages?limit=1 HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(listing, /^HTTP\/1\.1 200 /);
  assert.ok(listing.endsWith('"limit":1,"offset":0}'), listing);
  const dotted = await rawRequest(service, 'GET http://service.example/x/%2e%2e/metrics HTTP/1.1\r\nHost: service.example\r\nConnection: close\r\n\r\n');
  assert.match(dotted, /^HTTP\/1\.1 404 /);
});

test('an HTTP/1.1 request without exactly one Host header gets a JSON 400 and its log line', async (t) => {
  const service = await startService(t);
  for (const [requestId, hosts] of [['no-host', ''], ['two-hosts', 'Host: a\r\nHost: b\r\n']] as const) {
    const answer = await rawRequest(service, `GET /health/live HTTP/1.1\r\n${hosts}X-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /, requestId);
    assert.match(answer, new RegExp(`X-Request-ID: ${requestId}\r\n`, 'i'));
    assert.ok(answer.endsWith('{"detail":"bad request"}'));
    const line = await service.waitForLog((entry) => entry.request_id === requestId);
    assert.equal(line.status, 400);
  }
  // HTTP/1.0 has no Host requirement.
  assert.match(await rawRequest(service, 'GET /health/live HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
});

test('an Expect other than 100-continue gets a JSON 417 and its log line', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nX-Request-ID: expect-1\r\nConnection: close\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 417 /);
  assert.ok(answer.endsWith('{"detail":"expectation failed"}'));
  const line = await service.waitForLog((entry) => entry.request_id === 'expect-1');
  assert.equal(line.status, 417);
});

test('CONNECT gets a JSON 400 and a client error log line, not a dropped connection', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
  const requestId = /X-Request-ID: ([0-9a-f-]{36})\r\n/.exec(answer)?.[1];
  await service.waitForLog((line) => line.msg === 'client error' && line.request_id === requestId && line.code === 'CONNECT');
});

test('a CONNECT reset by the client while it is answered does not take the service down', async (t) => {
  const service = await startService(t);
  for (let attempt = 0; attempt < 20; attempt++) {
    const socket = await openSocket(service);
    socket.write('CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n');
    socket.resetAndDestroy();
  }
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  assert.equal(service.child.exitCode, null);
});

test('a rejected request pipelined behind an unanswered one is answered after it, in order', async (t) => {
  const service = await startService(t);
  for (const second of ['CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n', 'BAD\x01 / HTTP/1.1\r\n\r\n']) {
    const answer = await rawRequest(service, `GET /messages HTTP/1.1\r\nHost: x\r\n\r\n${second}`);
    assert.match(answer, /^HTTP\/1\.1 200 [^]*"offset":0\}HTTP\/1\.1 400 [^]*\{"detail":"bad request"\}$/, second);
  }
});

test('a body rejected mid-request on a route that does not read it is answered 400 and logged 400', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: get-body\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1);
  assert.ok(answer.endsWith('{"detail":"request body incomplete"}'));
  const line = await service.waitForLog((entry) => entry.request_id === 'get-body');
  assert.equal(line.status, 400);
  assert.equal(service.logs.filter((entry) => entry.request_id === 'get-body').length, 1);
});

test('a refused Expect with a malformed body gets one answer and one log line', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'POST /webhook HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nX-Request-ID: expect-2\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, answer);
  await service.waitForLog((entry) => entry.request_id === 'expect-2');
  assert.equal(clientErrorLines(service), 0);
});

test('Expect: 100-continue, even sent twice, invites a webhook body and the message is stored', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('invited-1')));
  const head =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nExpect: 100-continue\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  let sentBody = false;
  const answer = await rawRequest(service, head, {
    onData: (received, socket) => {
      if (sentBody || !received.includes('100 Continue\r\n\r\n')) return;
      sentBody = true;
      socket.write(body);
    },
  });
  assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['invited-1']);
});

test('a request refused without its body is answered at once, never invited to send it first', async (t) => {
  const service = await startService(t);
  const expect = 'Expect: 100-continue\r\nConnection: close\r\n';
  const cases = [
    ['POST /webhook', `Content-Type: application/json\r\nContent-Length: 10000000\r\n${expect}`, 413],
    ['POST /webhook', `Content-Type: text/plain\r\nContent-Length: 20\r\n${expect}`, 415],
    ['POST /nope', `Content-Type: application/json\r\nContent-Length: 20\r\n${expect}`, 404],
    ['GET /health/live', expect, 200],
  ] as const;
  for (const [target, headers, status] of cases) {
    const answer = await rawRequest(service, `${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), target);
    assert.ok(!answer.includes('100 Continue'), `${target}: ${answer}`);
  }
  assert.deepEqual(storedRows(service.dbPath), []);
});

test('after an answered request on a keep-alive connection, a malformed next request still gets its JSON 400', async (t) => {
  const service = await startService(t);
  let sentSecond = false;
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', {
    // The first answer is in: the next request on the same connection.
    onData: (_received, socket) => {
      if (!sentSecond) socket.write('BAD\x01 / HTTP/1.1\r\n\r\n');
      sentSecond = true;
    },
  });
  assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 /);
  assert.ok(answer.endsWith('{"detail":"bad request"}'));
});

test('a client that half-closes right after a complete request still gets its answer', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('half-closed-1')));
  const webhook =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  assert.match(await rawExchange(service, webhook), /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
  assert.match(await rawExchange(service, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 200 [^]*# TYPE /);
});

test('bytes after a Connection: close request are ignored: its answer goes out and nothing else is logged', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(
    service,
    'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: close-then-more\r\nConnection: close\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"live"\}$/);
  await service.waitForLog((entry) => entry.request_id === 'close-then-more');
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  assert.equal(clientErrorLines(service), 0);
});

test('a connection reset with no request in progress leaves no log line', async (t) => {
  const service = await startService(t);
  (await openSocket(service)).resetAndDestroy();
  await assertStillServing(service, 'after-reset');
  assert.equal(clientErrorLines(service), 0);
});

test('an Expect list with anything but 100-continue gets a 417 and no 100 Continue', async (t) => {
  const service = await startService(t);
  for (const expect of ['Expect: 100-continue, foo\r\n', 'Expect: foo\r\nExpect: 100-continue\r\n', 'Expect: x-100-continue-y\r\n']) {
    const answer = await rawRequest(service, `GET /health/live HTTP/1.1\r\nHost: x\r\n${expect}Connection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 417 [^]*\{"detail":"expectation failed"\}$/, expect);
  }
});

test('a request answered early and then rejected mid-body closes the connection only after the answers before it', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('answered-early-1')));
  const first =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\n\r\n${body}`;
  // The 415 is decided at once and waits behind the 200; the malformed chunk follows a moment
  // later, while the first message is usually still committing.
  const second = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
  const answer = await rawRequest(service, first + second, { afterWrite: (socket) => setTimeout(() => socket.write('zz\r\n'), 1) });
  // If the chunk arrives with the head, the body is refused before the media type is: a 400.
  assert.match(answer, /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}HTTP\/1\.1 (415|400) /);
});

test('a client that closes while answers are being written leaves no client error line', async (t) => {
  const service = await startService(t);
  const socket = await openSocket(service);
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Request-ID: gone-1\r\n\r\n'.repeat(3));
  socket.destroy();
  await service.waitForLog((entry) => entry.request_id === 'gone-1');
  await assertStillServing(service, 'after-gone');
  assert.equal(clientErrorLines(service), 0);
});

test('an HTTP/1.0 request with Expect: 100-continue gets no interim answer', async (t) => {
  const service = await startService(t);
  const answer = await rawRequest(service, 'GET /health/live HTTP/1.0\r\nExpect: 100-continue\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 /);
});

test('headers over 16 KiB get a JSON 431', async (t) => {
  const service = await startService(t);
  const answer = await rawExchange(service, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 431 /);
  assert.ok(answer.endsWith('{"detail":"request headers too large"}'));
});

/** A raw TCP connection to the service. Errors are ignored: tests that reset it cause their own. */
function openSocket(service: Service): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(service.url).port), '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
  });
}

type RawOptions = {
  /** End the client's side after writing `text`, as a client that has nothing more to send. */
  halfClose?: boolean;
  /** Called after `text` is written. */
  afterWrite?: (socket: Socket) => void;
  /** Called with everything received so far, each time more arrives. */
  onData?: (received: string, socket: Socket) => void;
};

/** Writes `text` on a new connection and resolves with everything the server sent once it closes. */
async function rawRequest(service: Service, text: string, options: RawOptions = {}): Promise<string> {
  const socket = await openSocket(service);
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      options.onData?.(received, socket);
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    if (options.halfClose === true) socket.end(text);
    else socket.write(text);
    options.afterWrite?.(socket);
  });
}

/** rawRequest, then the client half-closes: it has sent all it will. */
const rawExchange = (service: Service, text: string) => rawRequest(service, text, { halfClose: true });

/** The service still answers a new request; its log line is in, so every earlier line is too. */
async function assertStillServing(service: Service, requestId: string): Promise<void> {
  const after = await fetch(`${service.url}/health/live`, { headers: { 'X-Request-ID': requestId } });
  assert.equal(after.status, 200);
  await service.waitForLog((entry) => entry.request_id === requestId);
}

const clientErrorLines = (service: Service) => service.logs.filter((entry) => entry.msg === 'client error').length;

/** The answer is the 400 for a body that ended early, under `requestId`, logged once as such. */
async function assertBodyIncomplete(service: Service, answer: string, requestId: string): Promise<void> {
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, new RegExp(`X-Request-ID: ${requestId}\r\n`));
  assert.ok(answer.endsWith('{"detail":"request body incomplete"}'));
  const line = await service.waitForLog((entry) => entry.request_id === requestId);
  assert.equal(line.status, 400);
  assert.equal(line.result, 'body_incomplete');
  // The parser's rejection is this same request ending early, not a second event to log.
  assert.equal(clientErrorLines(service), 0);
}

test('a port already in use stops startup with one JSON line and a non-zero exit', async (t) => {
  const first = await startService(t);
  const port = new URL(first.url).port;
  const { code, stdout, stderr } = await runToExit({ WEBHOOK_SECRET: 's', HOST: '127.0.0.1', PORT: port, DATABASE_URL: 'sqlite:///:memory:' });
  assert.notEqual(code, 0);
  assert.equal(stderr, '');
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
  const failure = lines.find((line) => line.msg === 'cannot listen on HOST:PORT');
  assert.ok(failure);
  assert.equal(failure.code, 'EADDRINUSE');
});

test('bodies still arriving hold at most MAX_BUFFERED_BODY_BYTES: past it a request gets 503 at once, and the budget comes back', async (t) => {
  const service = await startService(t, { env: { MAX_BODY_BYTES: '1000', MAX_BUFFERED_BODY_BYTES: '2000' } });
  const buffered = async () => valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'webhook_body_bytes_buffered');
  const head = (id: string, framing: string) =>
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}X-Signature: ${'0'.repeat(64)}\r\n` +
    `X-Request-ID: ${id}\r\n\r\n`;
  const expecting = 'Expect: 100-continue\r\n';

  // Headers alone hold nothing: a client declaring a large body must send it to hold memory.
  const declaredOnly = await openSocket(service);
  t.after(() => declaredOnly.destroy());
  const invited = new Promise<string>((resolve) => declaredOnly.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  declaredOnly.write(head('declared-only', `Content-Length: 1000\r\n${expecting}`));
  assert.match(await invited, /^HTTP\/1\.1 100 Continue\r\n/);
  assert.equal(await buffered(), 0);

  // Two slow clients send 990 of their 1,000 bytes: each holds a 1,000-byte buffer.
  const held = await Promise.all(
    ['held-1', 'held-2'].map(async (id) => {
      const socket = await openSocket(service);
      t.after(() => socket.destroy());
      socket.write(head(id, 'Content-Length: 1000\r\n') + '{'.repeat(990));
      return socket;
    }),
  );
  for (let scrapes = 0; scrapes < 200 && (await buffered()) !== 2000; scrapes++);
  assert.equal(await buffered(), 2000);

  // Refused before the body is invited when it declares its length; at its first chunk when not.
  for (const [id, framing, body] of [
    ['over-declared', `Content-Length: 500\r\n${expecting}`, ''],
    ['over-chunked', 'Transfer-Encoding: chunked\r\n', '5\r\n{"a":\r\n'],
  ] as const) {
    const answer = await rawRequest(service, head(id, framing) + body);
    assert.match(answer, /^HTTP\/1\.1 503 /, id);
    assert.match(answer, /Retry-After: 1\r\n/);
    assert.ok(!answer.includes('100 Continue'), answer);
    const line = await service.waitForLog((entry) => entry.request_id === id);
    assert.equal(line.result, 'unavailable');
    assert.equal(line.reason, 'body_budget');
  }

  // A client that gives up gives its share back: a whole message fits again.
  held[0]!.destroy();
  await service.waitForLog((entry) => entry.request_id === 'held-1');
  assert.equal(await buffered(), 1000);
  assert.equal((await postWebhook(service, message('after-budget'))).status, 200);
});

test('a body sent one byte per chunk is put back together, verified and stored, and its buffer given back', async (t) => {
  const service = await startService(t);
  const buffered = async () => valueOf(parseExposition(await (await fetch(`${service.url}/metrics`)).text()), 'webhook_body_bytes_buffered');
  const body = Buffer.from(JSON.stringify(message('byte-chunks')));
  const chunks = [...body].map((byte) => `1\r\n${String.fromCharCode(byte)}\r\n`).join('');
  const answer = await rawRequest(
    service,
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n` +
      `X-Signature: ${signBody(SECRET, body)}\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
  );
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.deepEqual(storedRows(service.dbPath).map((row) => row.message_id), ['byte-chunks']);
  assert.equal(await buffered(), 0);
});

test('pipelined requests are answered one after another, in order', async (t) => {
  const service = await startService(t);
  const requests = Array.from({ length: 10 }, (_, n) => `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: in-order-${n}\r\n\r\n`);
  const answer = await rawRequest(service, requests.join('') + 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const ids = [...answer.matchAll(/X-Request-ID: (in-order-\d+)\r\n/g)].map((match) => match[1]);
  assert.deepEqual(ids, Array.from({ length: 10 }, (_, n) => `in-order-${n}`));
  assert.equal(answer.match(/HTTP\/1\.1 200 /g)?.length, 11);
});

test('a client that pipelines more than 16 requests at once is disconnected, and what waited is dropped unhandled', async (t) => {
  const service = await startService(t);
  const requests = Array.from({ length: 200 }, (_, n) => `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Request-ID: flood-${n}\r\n\r\n`);
  await rawRequest(service, requests.join(''));
  await service.waitForLog((line) => line.msg === 'connection dropped: too many pipelined requests' && line.limit === 16);
  // Only the request being handled when the connection dropped can have a line; the rest never ran.
  await assertStillServing(service, 'after-flood');
  assert.ok(service.logs.filter((line) => String(line.request_id).startsWith('flood-')).length <= 1);
  assert.equal(service.logs.filter((line) => line.msg === 'connection dropped: too many pipelined requests').length, 1);
});

test('a request pipelined behind an answer that closes the connection is not carried out', async (t) => {
  const service = await startService(t);
  const body = Buffer.from(JSON.stringify(message('behind-close')));
  // The 415 is answered without reading its body, so its answer closes the connection.
  const refused = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Request-ID: closing\r\n\r\nhello';
  const behind =
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Signature: ${signBody(SECRET, body)}\r\nX-Request-ID: behind-close\r\n\r\n${body}`;
  const answer = await rawRequest(service, refused + behind);
  assert.match(answer, /^HTTP\/1\.1 415 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1);
  await service.waitForLog((line) => line.request_id === 'closing');
  await assertStillServing(service, 'after-close');
  // Not stored, so no 200 was lost: the client, which got no answer, sends it again.
  assert.deepEqual(storedRows(service.dbPath), []);
  assert.equal(service.logs.filter((line) => line.request_id === 'behind-close').length, 0);
});

test('past MAX_CONNECTIONS open connections a new one is closed on arrival, and counted', async (t) => {
  const service = await startService(t, { env: { MAX_CONNECTIONS: '2' } });
  const open = await Promise.all(
    [0, 1].map(async () => {
      const socket = await openSocket(service);
      t.after(() => socket.destroy());
      const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await answered, /^HTTP\/1\.1 200 /);
      return socket;
    }),
  );
  // The third gets nothing: closed (or reset) as it arrives.
  const third = await openSocket(service);
  const received = await new Promise<string>((resolve) => {
    let data = '';
    third.on('data', (chunk: Buffer) => (data += chunk.toString()));
    third.on('close', () => resolve(data));
    third.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  assert.equal(received, '');

  const closed = new Promise((resolve) => open[0]!.once('close', resolve));
  open[0]!.destroy();
  await closed;
  let scraped: Response | null = null;
  // The server sees the close a moment after the client: until then a new connection is refused too.
  for (let attempt = 0; attempt < 100 && scraped === null; attempt++) scraped = await fetch(`${service.url}/metrics`).catch(() => null);
  assert.ok(scraped !== null);
  const dropped = valueOf(parseExposition(await scraped.text()), 'http_connections_dropped_total') as number;
  assert.ok(dropped >= 1, `dropped ${dropped}`);
});
