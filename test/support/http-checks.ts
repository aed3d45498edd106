// Assertions that several black-box HTTP tests share: the service keeps serving, and what a body
// that ended early is answered and logged as.
import assert from 'node:assert/strict';
import type { Service } from './service.ts';

/** The service still answers a new request; its log line is in, so every earlier line is too. */
export async function assertStillServing(service: Service, requestId: string): Promise<void> {
  const after = await fetch(`${service.url}/health/live`, { headers: { 'X-Request-ID': requestId } });
  assert.equal(after.status, 200);
  await service.waitForLog((entry) => entry.client_request_id === requestId);
}

export const clientErrorLines = (service: Service) => service.logs.filter((entry) => entry.msg === 'client error').length;

/** The service's request id in a raw answer's X-Request-ID header. */
export function answeredId(answer: string): string | undefined {
  return /X-Request-ID: ([0-9a-f-]{36})\r\n/i.exec(answer)?.[1];
}

/**
 * The answer is the 400 for a body that ended early, for the request the client called
 * `clientRequestId`, under the id its log line has, logged once as such.
 */
export async function assertBodyIncomplete(service: Service, answer: string, clientRequestId: string): Promise<void> {
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.ok(answer.endsWith('{"detail":"request body incomplete"}'));
  const line = await service.waitForLog((entry) => entry.client_request_id === clientRequestId);
  assert.equal(answeredId(answer), line.request_id);
  assert.equal(line.status, 400);
  assert.equal(line.result, 'body_incomplete');
  // The parser's rejection is this same request ending early, not a second event to log.
  assert.equal(clientErrorLines(service), 0);
}
