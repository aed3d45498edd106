// One item of a WhatsApp notification's `value.messages[]` mapped to the service's message, checked
// against the same limits as the flat payload (model/message.ts). Every problem is an issue whose
// loc points into the notification, so a sender can find it; no issue repeats what was sent.
import { exceedsCodePoints, MAX_MESSAGE_ID_CHARACTERS, MAX_TEXT_CHARACTERS } from '../../model/message.ts';
import type { ValidationIssue } from '../../model/validation.ts';
import type { DecodedItem } from '../payload-decoder.ts';
import {
  isJsonObject, missing, notAnObject, notAString, notUnicode, ownField, patternMismatch, tooLong, type JsonObject, type Loc,
} from './json-fields.ts';

/** A sender's WhatsApp number as Meta writes it in `from`: the digits of E.164, without the plus. */
const WA_ID = /^\d{1,15}$/;

/**
 * A business-scoped user ID (BSUID), which Meta sends in `from_user_id` and leaves `from` out when
 * a user with a username withholds their number (developers.facebook.com, WhatsApp "Business-scoped
 * user IDs", 2026): an ISO 3166 alpha-2 country code, a dot and up to 128 letters and digits, e.g.
 * `US.13491208655302741918`; a parent BSUID has `ENT.` after the country code.
 */
const BSUID = /^[A-Za-z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

/**
 * What `from` holds for a sender whose number is withheld: `wa:` and the BSUID. It can never be
 * taken for a number (those start with `+`), it is at most 138 characters, and its characters are
 * letters, digits, dots and one colon, safe in a URL query, a log line and a Link header.
 */
export const WITHHELD_NUMBER_PREFIX = 'wa:';

/** Unix seconds of 9999-12-31T23:59:59Z: the last instant an ISO-8601 year of four digits can name. */
const MAX_UNIX_SECONDS = 253_402_300_799;
const UNIX_SECONDS = /^\d{1,12}$/;

/** The business number a change was sent to, as `to`, or why it cannot be. Shared by the change's messages. */
export type Recipient = { ok: true; to: string } | { ok: false; issue: ValidationIssue };

/** Formatting a display number may carry ("+1 555-078-3881" in some Graph answers; webhooks send digits). */
const DISPLAY_NUMBER_FORMATTING = /[ ().-]/g;

/**
 * `to` from `value.metadata.display_phone_number`: a leading `+`, spaces, dots, dashes and
 * parentheses are dropped, and what is left must be 1 to 15 digits, then written as `+<digits>`.
 */
export function whatsAppRecipient(value: JsonObject, valueLoc: Loc): Recipient {
  const metadata = ownField(value, 'metadata');
  if (metadata === undefined) return { ok: false, issue: missing([...valueLoc, 'metadata']) };
  if (!isJsonObject(metadata)) return { ok: false, issue: notAnObject([...valueLoc, 'metadata']) };
  const loc = [...valueLoc, 'metadata', 'display_phone_number'];
  const display = ownField(metadata, 'display_phone_number');
  if (display === undefined) return { ok: false, issue: missing(loc) };
  if (typeof display !== 'string') return { ok: false, issue: notAString(loc) };
  // Bounded before any rewriting: a display number is never long.
  const digits = display.length <= 32 ? display.replace(/^\+/, '').replace(DISPLAY_NUMBER_FORMATTING, '') : '';
  if (!WA_ID.test(digits)) return { ok: false, issue: patternMismatch(loc, WA_ID) };
  return { ok: true, to: `+${digits}` };
}

export function mapWhatsAppMessage(input: unknown, recipient: Recipient, loc: Loc): DecodedItem {
  if (!isJsonObject(input)) return { ok: false, issues: [notAnObject(loc)] };
  const issues: ValidationIssue[] = [];
  const messageId = boundedText(input, 'id', loc, MAX_MESSAGE_ID_CHARACTERS, issues);
  const from = sender(input, loc, issues);
  if (!recipient.ok) issues.push(recipient.issue);
  const ts = isoTimestamp(input, loc, issues);
  const text = messageText(input, loc, issues);
  if (messageId === null || from === null || !recipient.ok || ts === null || issues.length > 0) return { ok: false, issues };
  return { ok: true, message: { message_id: messageId, from, to: recipient.to, ts, text } };
}

/** `+` and the number when Meta gives it; otherwise the withheld-number form from the BSUID. */
function sender(message: JsonObject, loc: Loc, issues: ValidationIssue[]): string | null {
  const number = ownField(message, 'from');
  if (number !== undefined) {
    if (typeof number !== 'string') issues.push(notAString([...loc, 'from']));
    else if (!WA_ID.test(number)) issues.push(patternMismatch([...loc, 'from'], WA_ID));
    else return `+${number}`;
    return null;
  }
  const userId = ownField(message, 'from_user_id');
  if (userId === undefined) {
    // Neither a number nor a BSUID: the sender is unknown, and a message must name one.
    issues.push(missing([...loc, 'from']));
    return null;
  }
  if (typeof userId !== 'string') issues.push(notAString([...loc, 'from_user_id']));
  else if (!BSUID.test(userId)) issues.push(patternMismatch([...loc, 'from_user_id'], BSUID));
  else return WITHHELD_NUMBER_PREFIX + userId;
  return null;
}

/** Meta's `timestamp` (Unix seconds, a string of digits) as ISO-8601 UTC to the second, e.g. 2025-01-15T10:00:00Z. */
function isoTimestamp(message: JsonObject, loc: Loc, issues: ValidationIssue[]): string | null {
  const raw = ownField(message, 'timestamp');
  const here = [...loc, 'timestamp'];
  if (raw === undefined) issues.push(missing(here));
  else if (typeof raw !== 'string') issues.push(notAString(here));
  else if (!UNIX_SECONDS.test(raw) || Number(raw) > MAX_UNIX_SECONDS) {
    issues.push({ loc: here, msg: 'Value error, timestamp must be Unix seconds as a string of digits, e.g. 1736935200', type: 'value_error' });
  } else {
    return new Date(Number(raw) * 1000).toISOString().replace('.000Z', 'Z');
  }
  return null;
}

/**
 * The text a person typed or chose: a text's body; a caption of an image, video or document; the
 * title of an interactive button or list reply; a quick-reply button's text. Null for everything
 * else (reactions, locations, audio, stickers, contacts, types Meta adds later): they are stored
 * as messages without text rather than refused, so a new type cannot stop a notification.
 */
function messageText(message: JsonObject, loc: Loc, issues: ValidationIssue[]): string | null {
  const type = ownField(message, 'type');
  if (type === undefined) issues.push(missing([...loc, 'type']));
  else if (typeof type !== 'string') issues.push(notAString([...loc, 'type']));
  else {
    switch (type) {
      case 'text': return textAt(message, ['text', 'body'], loc, true, issues);
      case 'button': return textAt(message, ['button', 'text'], loc, true, issues);
      case 'image':
      case 'video':
      case 'document': return textAt(message, [type, 'caption'], loc, false, issues);
      case 'interactive': return interactiveTitle(message, loc, issues);
    }
  }
  return null;
}

function interactiveTitle(message: JsonObject, loc: Loc, issues: ValidationIssue[]): string | null {
  const interactive = ownField(message, 'interactive');
  const kind = isJsonObject(interactive) ? ownField(interactive, 'type') : undefined;
  // Flow answers (nfm_reply) and call permission replies carry no title a person chose.
  if (kind !== 'button_reply' && kind !== 'list_reply') return null;
  return textAt(message, ['interactive', kind, 'title'], loc, true, issues);
}

/** The string at `path` under the message, checked as `text` is; absent (or null) is null unless required. */
function textAt(message: JsonObject, path: readonly string[], loc: Loc, required: boolean, issues: ValidationIssue[]): string | null {
  let node: unknown = message;
  for (const [depth, name] of path.entries()) {
    if (!isJsonObject(node)) {
      issues.push(notAnObject([...loc, ...path.slice(0, depth)]));
      return null;
    }
    node = ownField(node, name);
    if (node === undefined && required) issues.push(missing([...loc, ...path.slice(0, depth + 1)]));
    if (node === undefined || (node === null && !required)) return null;
  }
  const here = [...loc, ...path];
  if (typeof node !== 'string') issues.push(notAString(here));
  else if (!node.isWellFormed()) issues.push(notUnicode(here));
  else if (exceedsCodePoints(node, MAX_TEXT_CHARACTERS)) issues.push(tooLong(here, MAX_TEXT_CHARACTERS));
  else return node;
  return null;
}

/** A required, non-empty, well-formed string of at most `max` code points. */
function boundedText(message: JsonObject, name: string, loc: Loc, max: number, issues: ValidationIssue[]): string | null {
  const value = ownField(message, name);
  const here = [...loc, name];
  if (value === undefined) issues.push(missing(here));
  else if (typeof value !== 'string') issues.push(notAString(here));
  else if (!value.isWellFormed()) issues.push(notUnicode(here));
  else if (value.length === 0) issues.push({ loc: here, msg: 'String should have at least 1 character', type: 'string_too_short' });
  else if (exceedsCodePoints(value, max)) issues.push(tooLong(here, max));
  else return value;
  return null;
}
