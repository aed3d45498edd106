// The WhatsApp Business Cloud API webhook notification: `{ object: "whatsapp_business_account",
// entry: [{ id, changes: [{ field, value }] }] }`. Every item of `value.messages[]` in a change whose
// field is "messages" becomes one message (whatsapp-message.ts). What is not a message is
// acknowledged and counted, never stored: delivery receipts (`value.statuses[]`), errors
// (`value.errors[]`) and changes of other fields (account updates, templates, ...).
//
// The envelope is checked as a whole: where it is not the documented shape, the body is refused
// with a pointer to the first problem (a sender bug needs one). Each message is checked on its own.
import type { ValidationIssue } from '../../model/validation.ts';
import type { DecodedItem, PayloadDecoder } from '../payload-decoder.ts';
import { parseJson } from '../validate.ts';
import { isJsonObject, missing, notAList, notAnObject, ownField, type JsonObject, type Loc } from './json-fields.ts';
import { mapWhatsAppMessage, whatsAppRecipient } from './whatsapp-message.ts';

/**
 * Most messages one notification may carry. Meta batches a few; the bound keeps a 3 MB body of tiny
 * messages from making us build tens of thousands of items and issues.
 */
export const MAX_WHATSAPP_MESSAGES = 10_000;

/**
 * The kinds counted in `ignored`, every one always present. A fixed set written here, because the
 * keys become metric labels: one taken from the payload (a `field` name, a status) would let a
 * sender mint label values.
 */
export const WHATSAPP_IGNORED_KINDS = ['statuses', 'errors', 'other_fields'] as const;
export type WhatsAppIgnored = Record<(typeof WHATSAPP_IGNORED_KINDS)[number], number>;

type MessageBatch = { messages: unknown[]; value: JsonObject; valueLoc: Loc };

export const decodeWhatsApp: PayloadDecoder = (body) => {
  const parsed = parseJson(body);
  if (!parsed.ok) return parsed;
  const root = parsed.value;
  if (!isJsonObject(root)) return refuse(notAnObject(['body']));
  const kind = ownField(root, 'object');
  if (kind !== 'whatsapp_business_account') {
    return refuse(kind === undefined
      ? missing(['body', 'object'])
      : { loc: ['body', 'object'], msg: "Input should be 'whatsapp_business_account'", type: 'literal_error' });
  }
  const entries = ownField(root, 'entry');
  if (!Array.isArray(entries)) return refuse(entries === undefined ? missing(['body', 'entry']) : notAList(['body', 'entry']));

  const ignored: WhatsAppIgnored = { statuses: 0, errors: 0, other_fields: 0 };
  const batches: MessageBatch[] = [];
  let messageCount = 0;
  for (const [entryIndex, entry] of entries.entries()) {
    const entryLoc = ['body', 'entry', entryIndex];
    if (!isJsonObject(entry)) return refuse(notAnObject(entryLoc));
    const changes = ownField(entry, 'changes');
    if (!Array.isArray(changes)) return refuse(changes === undefined ? missing([...entryLoc, 'changes']) : notAList([...entryLoc, 'changes']));
    for (const [changeIndex, change] of changes.entries()) {
      const changeLoc = [...entryLoc, 'changes', changeIndex];
      if (!isJsonObject(change)) return refuse(notAnObject(changeLoc));
      if (ownField(change, 'field') !== 'messages') {
        ignored.other_fields += 1;
        continue;
      }
      const value = ownField(change, 'value');
      if (!isJsonObject(value)) return refuse(value === undefined ? missing([...changeLoc, 'value']) : notAnObject([...changeLoc, 'value']));
      const valueLoc = [...changeLoc, 'value'];
      const lists = { messages: [] as unknown[], statuses: [] as unknown[], errors: [] as unknown[] };
      for (const name of ['messages', 'statuses', 'errors'] as const) {
        const list = ownField(value, name);
        if (list === undefined) continue;
        if (!Array.isArray(list)) return refuse(notAList([...valueLoc, name]));
        lists[name] = list;
      }
      ignored.statuses += lists.statuses.length;
      ignored.errors += lists.errors.length;
      messageCount += lists.messages.length;
      // Refused before any item is built, and before the rest of the body is walked.
      if (messageCount > MAX_WHATSAPP_MESSAGES) {
        return refuse({ loc: ['body'], msg: `A notification should carry at most ${MAX_WHATSAPP_MESSAGES} messages`, type: 'too_long' });
      }
      if (lists.messages.length > 0) batches.push({ messages: lists.messages, value, valueLoc });
    }
  }

  const items: DecodedItem[] = [];
  for (const { messages, value, valueLoc } of batches) {
    // Every message of a change was sent to the same business number.
    const recipient = whatsAppRecipient(value, valueLoc);
    for (const [index, message] of messages.entries()) items.push(mapWhatsAppMessage(message, recipient, [...valueLoc, 'messages', index]));
  }
  return { ok: true, items, ignored };
};

function refuse(issue: ValidationIssue): { ok: false; issues: ValidationIssue[] } {
  return { ok: false, issues: [issue] };
}
