// Assertions that several black-box HTTP tests share: the service keeps serving, and what a body
// that ended early is answered and logged as.
import assert from 'node:assert/strict';
import type { Service } from './service.ts';

/** The service still answers a new request; its log line is in, so every earlier line is too. */
export async function assertStillServing(service: Service, requestId: string): Promise<void> {
  const after = await fetch(`${service.url}/health/live`, { headers: { 'X-Request-ID': requestId } });
  assert.equal(after.status, 200);
  await service.waitForLog((entry) => entry.request_id === requestId);
}

export const clientErrorLines = (service: Service) => service.logs.filter((entry) => entry.msg === 'client error').length;

/** The answer is the 400 for a body that ended early, under `requestId`, logged once as such. */
export async function assertBodyIncomplete(service: Service, answer: string, requestId: string): Promise<void> {
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, new RegExp(`X-Request-ID: ${requestId}\r\n`));
  assert.ok(answer.endsWith('{"detail":"request body incomplete"}'));
  const line = await service.waitForLog((entry) => entry.request_id === requestId);
  assert.equal(line.status, 400);
  assert.equal(line.result, 'body_incomplete');
  // The parser's rejection is this same request ending early, not a second event to log.
  assert.equal(clientErrorLines(service), 0);
}
