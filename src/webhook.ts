// POST /webhook. The order of checks is the security contract: refuse what we will not read
// (unconfigured, oversized, wrong media type), read the raw bytes within the budget, verify the
// signature over exactly those bytes, and only then parse, validate and store.
import type { AppDeps, Handler, RequestContext } from './app.ts';
import type { LogFields } from './log.ts';
import { assertDeclaredLength, assertJsonContentType, createBodyBudget, readBody, type BodyLimits } from './body.ts';
import { HttpError } from './http-error.ts';
import type { Route } from './router.ts';
import { verifyWebhook } from './signature.ts';
import { StoreUnavailableError, type InsertResult, type Store } from './store.ts';
import { parseJson, validateMessage, type InboundMessage } from './validate.ts';

export const WEBHOOK_PATH = '/webhook';

export function webhookRoutes({ config, store, metrics }: AppDeps): Route<Handler>[] {
  const bodyLimits: BodyLimits = { maxBytes: config.maxBodyBytes, budget: createBodyBudget(config.maxBufferedBodyBytes) };
  metrics.gauge({
    name: 'webhook_body_bytes_buffered',
    help: 'Bytes held by webhook bodies still arriving, not yet verified (at most MAX_BUFFERED_BODY_BYTES).',
    collect: (gauge) => gauge.set({}, bodyLimits.budget.held()),
  });

  async function receive(ctx: RequestContext) {
    const { req, logFields } = ctx;
    logFields.dup = false;
    try {
      // Fail closed: without a secret nothing can be verified, so nothing is accepted.
      if (config.webhookSecret === null) throw new HttpError('not_configured');
      assertDeclaredLength(req, config.maxBodyBytes);
      assertJsonContentType(req);
      const rawBody = await readBody(req, bodyLimits, ctx.inviteBody).catch((error: unknown) => {
        if (error instanceof HttpError && error.code === 'unavailable') logFields.reason = 'body_budget';
        throw error;
      });
      if (!verifyWebhook(req.headers, rawBody, config.webhookSecret)) throw new HttpError('invalid_signature');

      const parsed = parseJson(rawBody);
      if (!parsed.ok) throw new HttpError('validation_error', { issues: parsed.issues });
      const validated = validateMessage(parsed.value);
      if (!validated.ok) throw new HttpError('validation_error', { issues: validated.issues });

      // Validation bounds the id (MAX_MESSAGE_ID_CHARACTERS), so one request cannot flood the log.
      logFields.message_id = validated.value.message_id;
      const outcome = await insertOrUnavailable(store, validated.value, logFields);
      logFields.dup = outcome === 'duplicate';
      logFields.result = outcome;
      return { status: 200, body: { status: 'ok' } };
    } catch (error) {
      if (error instanceof HttpError) logFields.result = error.code;
      throw error;
    }
  }

  return [{ method: 'POST', path: WEBHOOK_PATH, handler: receive }];
}

/** A write the store cannot take or confirm now: 503 with Retry-After, safe to retry (store.ts, UnavailableReason). */
async function insertOrUnavailable(store: Store, message: InboundMessage, logFields: LogFields): Promise<InsertResult> {
  try {
    return await store.insert(message);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logFields.reason = error.reason;
    throw new HttpError('unavailable');
  }
}
