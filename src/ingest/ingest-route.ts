// The route of one ingest source (POST /webhook today). The order of checks is the security
// contract: refuse what we will not read (unconfigured, oversized, wrong media type), read the raw
// bytes within the body budget, verify the signature over exactly those bytes, and only then decode,
// validate and store. What differs between sources (the signature scheme, its keys, the payload
// format, the body limit) is data in IngestSource; the sequence is the same for all.
import type { KeyObject } from 'node:crypto';
import { assertDeclaredLength, assertJsonContentType, readBody, type BodyBudget } from '../http/body.ts';
import { HttpError } from '../http/http-error.ts';
import type { RequestContext, Route } from '../http/route.ts';
import type { LogFields } from '../observability/log.ts';
import type { InboundMessage } from '../model/message.ts';
import { StoreUnavailableError, type InsertResult, type MessageSink } from '../store/store.ts';
import type { IngestOutcomes } from './ingest-metrics.ts';
import type { PayloadDecoder } from './payload-decoder.ts';
import type { SignatureScheme } from './signature-scheme.ts';

export type IngestSource = {
  /** The source's name in log lines and metrics. */
  name: string;
  path: string;
  scheme: SignatureScheme;
  /** The keys a valid signature may be made with; none means the source is not configured. */
  keys: readonly KeyObject[];
  decode: PayloadDecoder;
  maxBodyBytes: number;
};

export type IngestDeps = {
  sink: MessageSink;
  /** The bytes all unverified bodies may hold at once, shared by every ingest route of an app. */
  budget: BodyBudget;
  outcomes: IngestOutcomes;
  /** Milliseconds since the Unix epoch, for schemes with timestamps. */
  now: () => number;
};

export function ingestRoute(source: IngestSource, { sink, budget, outcomes, now }: IngestDeps): Route {
  const limits = { maxBytes: source.maxBodyBytes, budget };

  async function receive(ctx: RequestContext) {
    const { req, logFields } = ctx;
    logFields.dup = false;
    // Fail closed: without a key nothing can be verified, so nothing is accepted.
    if (source.keys.length === 0) throw new HttpError('not_configured');
    assertDeclaredLength(req, source.maxBodyBytes);
    assertJsonContentType(req);
    const body = await readBody(req, limits, ctx.inviteBody).catch((error: unknown) => {
      if (error instanceof HttpError && error.code === 'unavailable') logFields.reason = 'body_budget';
      throw error;
    });
    const verdict = source.scheme.verify({ headers: req.headers, body, keys: source.keys, now: now() });
    if (!verdict.ok) throw new HttpError('invalid_signature');

    const decoded = source.decode(body);
    if (!decoded.ok) throw new HttpError('validation_error', { issues: decoded.issues });
    const messages: InboundMessage[] = [];
    for (const item of decoded.items) {
      if (!item.ok) throw new HttpError('validation_error', { issues: item.issues });
      messages.push(item.message);
    }
    // Validation bounds the id (MAX_MESSAGE_ID_CHARACTERS), so one request cannot flood the log.
    if (messages.length === 1) logFields.message_id = messages[0]?.message_id;
    const results = await insertOrUnavailable(sink, messages, logFields);
    logFields.dup = results.length > 0 && results.every((result) => result === 'duplicate');
    logFields.result = results.length === 1 ? results[0] : 'created';
    return { status: 200, body: { status: 'ok' } };
  }

  return { method: 'POST', path: source.path, handler: receive, onAnswered: outcomes.record };
}

/** A write the store cannot take or confirm now: 503 with Retry-After, safe to retry (store.ts, UnavailableReason). */
async function insertOrUnavailable(sink: MessageSink, messages: readonly InboundMessage[], logFields: LogFields): Promise<InsertResult[]> {
  try {
    return await sink.insertMany(messages);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logFields.reason = error.reason;
    throw new HttpError('unavailable');
  }
}
