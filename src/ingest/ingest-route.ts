// The POST route of one ingest source. The order of checks is the security contract: refuse what we
// will not read (unconfigured, oversized, wrong media type), read the raw bytes within the body
// budget, verify the signature over exactly those bytes, and only then decode, validate and store.
// What differs between sources (the scheme, its keys, the payload format, the body limit, what an
// invalid item gets) is data in IngestSource; the sequence is the same for all.
import type { KeyObject } from 'node:crypto';
import { assertDeclaredLength, assertJsonContentType, readBody, type BodyBudget } from '../http/body.ts';
import { HttpError } from '../http/http-error.ts';
import type { ParameterDoc, RequestContext, Route, RouteDoc, Schema } from '../http/route.ts';
import { ref } from '../model/schemas.ts';
import type { InboundMessage } from '../model/message.ts';
import type { ValidationIssue } from '../model/validation.ts';
import type { LogFields } from '../observability/log.ts';
import { StoreUnavailableError, type InsertResult, type MessageSink } from '../store/store.ts';
import type { IngestOutcomes } from './ingest-metrics.ts';
import type { DecodedItem, PayloadDecoder } from './payload-decoder.ts';
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
  /**
   * What a verified request holding an invalid message gets. `refuse`: 422 with its issues, nothing
   * stored (the flat contract). `skip`: the rest are stored and the request answered 200, the
   * invalid ones counted and logged (a provider retries anything else for days, and a retry would
   * not make the item valid).
   */
  invalidItems: 'refuse' | 'skip';
  /** For /openapi.json: what the route is, the signature headers it reads, the body it takes. */
  doc: { summary: string; description: string; headers: readonly ParameterDoc[]; body: Schema };
};

export type IngestDeps = {
  sink: MessageSink;
  /** The bytes all unverified bodies may hold at once, shared by every ingest route of an app. */
  budget: BodyBudget;
  outcomes: IngestOutcomes;
  /** Milliseconds since the Unix epoch, for schemes with timestamps. */
  now: () => number;
  /** Most messages handed to the sink at once: a notification of thousands goes in several parts. */
  insertChunk: number;
};

export function ingestRoute(source: IngestSource, { sink, budget, outcomes, now, insertChunk }: IngestDeps): Route {
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
    if (!verdict.ok) {
      logFields.reason = verdict.reason;
      throw new HttpError('invalid_signature');
    }
    // The position of the key, never the key: operators see when an old one stops being used.
    logFields.key_index = verdict.keyIndex;
    outcomes.keyMatched(source.name, verdict.keyIndex);

    const decoded = source.decode(body);
    if (!decoded.ok) throw new HttpError('validation_error', { issues: decoded.issues });
    outcomes.ignored(source.name, decoded.ignored);
    const messages: InboundMessage[] = [];
    const skipped: ValidationIssue[][] = [];
    for (const decodedItem of decoded.items) {
      const item = storable(decodedItem, sink);
      if (item.ok) messages.push(item.message);
      else if (source.invalidItems === 'refuse') throw new HttpError('validation_error', { issues: item.issues });
      else skipped.push(item.issues);
    }
    if (skipped.length > 0) noteSkipped(source.name, skipped, logFields, outcomes);

    // Validation bounds the id (MAX_MESSAGE_ID_CHARACTERS), so one request cannot flood the log.
    if (decoded.items.length === 1 && messages.length === 1) logFields.message_id = messages[0]?.message_id;
    else logFields.messages = messages.length;
    const results: InsertResult[] = [];
    for (let start = 0; start < messages.length; start += insertChunk) {
      results.push(...(await insertOrUnavailable(sink, messages.slice(start, start + insertChunk), logFields)));
    }
    logFields.result = overall(results);
    logFields.dup = logFields.result === 'duplicate';
    if (messages.length > 1) logFields.created = results.filter((result) => result === 'created').length;
    return { status: 200, body: { status: 'ok' } };
  }

  return { method: 'POST', path: source.path, handler: receive, onAnswered: outcomes.recorder(source.name), doc: ingestDoc(source) };
}

function ingestDoc(source: IngestSource): RouteDoc {
  const unavailable = 'Not stored now (the write queue full, the commit failed, the bodies in flight too many): retrying is safe.';
  return {
    summary: source.doc.summary,
    description: source.doc.description,
    tag: 'ingest',
    parameters: source.doc.headers,
    requestBody: { description: `The payload, at most ${source.maxBodyBytes} bytes, signed over its exact bytes.`, schema: source.doc.body },
    responses: {
      200: { description: 'Stored now, already stored, or erased earlier: in every case durable, and never stored twice.', schema: ref('Accepted') },
      401: { description: 'The signature is missing, malformed, wrong, or (with timestamps) too old.', schema: ref('Error') },
      413: { description: `The body is over ${source.maxBodyBytes} bytes.`, schema: ref('Error') },
      415: { description: 'A Content-Type that is not JSON.', schema: ref('Error') },
      422: { description: source.invalidItems === 'refuse' ? 'The payload is not valid; nothing was stored.' : 'The body is not a notification of this provider.', schema: ref('ValidationError') },
      503: { description: source.name === 'webhook' ? `${unavailable} Also: WEBHOOK_SECRET unset.` : unavailable, schema: ref('Error'), headers: ['Retry-After'] },
    },
  };
}

/** A valid message this backend cannot store exactly as received is invalid here (store.ts, unstorableField). */
function storable(item: DecodedItem, sink: MessageSink): DecodedItem {
  if (!item.ok) return item;
  const field = sink.unstorableField(item.message);
  if (field === null) return item;
  return { ok: false, issues: [{ loc: ['body', field], msg: 'Value error, this database cannot store the character U+0000 (NUL)', type: 'value_error' }] };
}

/** What a request came to: created if any message was new, else duplicate, else erased; ignored with none. */
function overall(results: readonly InsertResult[]): string {
  if (results.length === 0) return 'ignored';
  if (results.includes('created')) return 'created';
  return results.includes('duplicate') ? 'duplicate' : 'erased';
}

/** Skipped items: their number, and where the first one's first problem was (never a value). */
function noteSkipped(source: string, skipped: ValidationIssue[][], logFields: LogFields, outcomes: IngestOutcomes): void {
  logFields.skipped = skipped.length;
  const first = skipped[0]?.[0];
  if (first !== undefined) logFields.skipped_issue = `${first.type} at ${first.loc.join('.')}`;
  outcomes.skipped(source, skipped.length);
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
