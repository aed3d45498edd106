// Erasure of personal data on request: DELETE /messages/{message_id} erases one message (its id
// percent-encoded in the path, so an id may hold a `/`), DELETE /messages?from=<sender> every
// message of one person. Each answers 200 {"deleted": N}. An erased id is never stored again while
// its tombstone lasts (store.ts, MessageEraser). The log line says what kind of erasure it was and
// how many messages went, never a text or a phone number (the query string is never logged).
import { HttpError } from '../http/http-error.ts';
import type { RequestContext, Route } from '../http/route.ts';
import { exceedsCodePoints, MAX_MESSAGE_ID_CHARACTERS } from '../model/message.ts';
import { ref } from '../model/schemas.ts';
import type { ValidationIssue } from '../model/validation.ts';
import { StoreUnavailableError, type MessageEraser } from '../store/store.ts';

/** A sender is what a message's `from` holds: a phone number, or a provider's user id (at most 138 characters). */
const MAX_SENDER_CHARACTERS = 256;

/**
 * The erasure routes; with no eraser (ADMIN_TOKENS unset), the same routes answering 403 to every
 * request, so that nobody can erase and the answer says why.
 */
export function erasureRoutes(eraser: MessageEraser | null): Route[] {
  async function eraseOne({ params, logFields }: RequestContext) {
    const messageId = decodeSegment(params.message_id ?? '');
    if (messageId === null || messageId === '' || exceedsCodePoints(messageId, MAX_MESSAGE_ID_CHARACTERS) || !messageId.isWellFormed()) {
      throw new HttpError('validation_error', { issues: [issue(['path', 'message_id'], `Value error, message_id must be 1 to ${MAX_MESSAGE_ID_CHARACTERS} characters, percent-encoded`)] });
    }
    logFields.erasure = 'message';
    return erased(await unavailableOnFailure((eraser as MessageEraser).eraseMessage(messageId), logFields), logFields);
  }

  async function eraseSender({ url, logFields }: RequestContext) {
    const from = url.searchParams.getAll('from').at(-1);
    if (from === undefined) throw new HttpError('validation_error', { issues: [{ loc: ['query', 'from'], msg: 'Field required', type: 'missing' }] });
    if (from === '' || exceedsCodePoints(from, MAX_SENDER_CHARACTERS)) {
      throw new HttpError('validation_error', { issues: [issue(['query', 'from'], `Value error, from must be 1 to ${MAX_SENDER_CHARACTERS} characters`)] });
    }
    logFields.erasure = 'sender';
    return erased(await unavailableOnFailure((eraser as MessageEraser).eraseSender(from), logFields), logFields);
  }

  const disabled = async (): Promise<never> => {
    throw new HttpError('erasure_disabled');
  };
  const responses = (what: string) => ({
    200: { description: `${what}: how many messages went. Their ids are refused for TOMBSTONE_DAYS.`, schema: ref('Erased') },
    403: { description: 'Erasure is disabled: ADMIN_TOKENS is not set.', schema: ref('Error') },
    422: { description: 'A malformed id or sender.', schema: ref('ValidationError') },
    503: { description: 'Not done now; nothing of a failed chunk was erased, and repeating is safe.', schema: ref('Error'), headers: ['Retry-After'] },
  });
  return [
    {
      method: 'DELETE',
      path: '/messages/{message_id}',
      handler: eraser === null ? disabled : eraseOne,
      doc: {
        summary: 'Erase one message by its id (percent-encoded: a / is %2F)',
        tag: 'erasure',
        parameters: [{ name: 'message_id', in: 'path', description: 'The message id, percent-encoded.', schema: { type: 'string', minLength: 1 } }],
        responses: responses('Erased (1) or not stored (0)'),
      },
    },
    {
      method: 'DELETE',
      path: '/messages',
      handler: eraser === null ? disabled : eraseSender,
      doc: {
        summary: 'Erase every message of one sender',
        tag: 'erasure',
        parameters: [{ name: 'from', in: 'query', required: true, description: 'The sender, exactly as stored; encode + as %2B.', schema: { type: 'string', minLength: 1, maxLength: MAX_SENDER_CHARACTERS } }],
        responses: responses('Erased'),
      },
    },
  ];
}

function erased(deleted: number, logFields: RequestContext['logFields']) {
  logFields.deleted = deleted;
  return { status: 200, body: { deleted } };
}

/** A path segment's percent-escapes decoded; null when they are not valid UTF-8 escapes. */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

async function unavailableOnFailure(erasure: Promise<number>, logFields: RequestContext['logFields']): Promise<number> {
  try {
    return await erasure;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    // Nothing of a failed chunk was erased: the request can be repeated.
    logFields.reason = error.reason;
    throw new HttpError('unavailable');
  }
}

function issue(loc: (string | number)[], msg: string): ValidationIssue {
  return { loc, msg, type: 'value_error' };
}
