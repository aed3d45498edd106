// Builders of WhatsApp Business Cloud API webhook notifications, in the shapes of Meta's reference
// ("Webhooks Components" and the messages webhook reference on developers.facebook.com): the
// envelope, text, media, interactive, button, reaction and withheld-number messages, and delivery
// statuses. metaJson serialises a notification the way Meta sends it, escapes included, and
// signedWhatsApp adds the headers, so a test signs exactly the bytes it posts.
import { signHubBody } from '../../src/ingest/schemes/hub-signature.ts';

export type Json = string | number | boolean | null | Json[] | { [name: string]: Json };
export type JsonObject = { [name: string]: Json };

/** The business side of every notification here: Meta's test number and ids. */
export const BUSINESS = { accountId: '102290129340398', phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881' } as const;
export const USER = { name: 'Sheena Nelson', waId: '16505551234', bsuid: 'US.13491208655302741918', username: '@sheena' } as const;
/** 2025-01-15T10:00:00Z, as Meta writes a timestamp: Unix seconds in a string. */
export const TIMESTAMP = '1736935200';

export function textMessage(body: string, id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA='): JsonObject {
  return { from: USER.waId, id, timestamp: TIMESTAMP, type: 'text', text: { body } };
}

export function imageMessage(caption: string, id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUI3NjQ1RTY4MEM5QTg3NkQ4RQA='): JsonObject {
  return {
    from: USER.waId, id, timestamp: TIMESTAMP, type: 'image',
    image: {
      caption,
      mime_type: 'image/jpeg',
      sha256: 'AdCJXY6+zP0CAqMh4wUuGv9UuC4YC6t8TmQplcc+a/U=',
      id: '1003383421387256',
      url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1750690153',
    },
  };
}

/** A tap on a reply button of an interactive message the business sent (`context` names it). */
export function buttonReplyMessage(title: string, id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTVFQkE2Nzk4RjNGNjYzNjRDNwA='): JsonObject {
  return {
    context: { from: BUSINESS.displayPhoneNumber, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QkQ2MDUwNUJCMzQ4QzUxQTcA' },
    from: USER.waId, id, timestamp: TIMESTAMP, type: 'interactive',
    interactive: { type: 'button_reply', button_reply: { id: 'cancel-order', title } },
  };
}

export function reactionMessage(emoji: string, id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTlCOTIxMzk1RDU1OTk0MjY4RgA='): JsonObject {
  return {
    from: USER.waId, id, timestamp: TIMESTAMP, type: 'reaction',
    reaction: { message_id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QkQ2MDUwNUJCMzQ4QzUxQTcA', emoji },
  };
}

/** From a user who adopted a username and withholds their number: no `from`, a BSUID in `from_user_id`. */
export function withheldNumberMessage(body: string, id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUU4RTdCMUY1RDM2QTQ2NTZBNQA='): JsonObject {
  return { from_user_id: USER.bsuid, id, timestamp: TIMESTAMP, type: 'text', text: { body } };
}

export function deliveryStatus(status: 'sent' | 'delivered' | 'read', id = 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QkQ2MDUwNUJCMzQ4QzUxQTcA'): JsonObject {
  return {
    id, status, timestamp: TIMESTAMP, recipient_id: USER.waId,
    pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' },
  };
}

/** The contact Meta lists beside messages; without the number when it is withheld. */
export function contact(withheld = false): JsonObject {
  return withheld
    ? { profile: { name: USER.name, username: USER.username }, user_id: USER.bsuid }
    : { profile: { name: USER.name }, wa_id: USER.waId, user_id: USER.bsuid };
}

/** The `value` of a `messages` change: metadata, then whichever of contacts, messages and statuses are given. */
export function messagesValue(parts: { contacts?: JsonObject[]; messages?: Json[]; statuses?: JsonObject[] }): JsonObject {
  const value: JsonObject = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: BUSINESS.displayPhoneNumber, phone_number_id: BUSINESS.phoneNumberId },
  };
  if (parts.contacts !== undefined) value.contacts = parts.contacts;
  if (parts.messages !== undefined) value.messages = parts.messages;
  if (parts.statuses !== undefined) value.statuses = parts.statuses;
  return value;
}

/** A copy of `object` without the field `name`: a payload that lacks what Meta always sends. */
export function without(object: JsonObject, name: string): JsonObject {
  const { [name]: _, ...rest } = object;
  return rest;
}

/** A notification of one entry holding the given changes (`{ field, value }`). */
export function notification(...changes: JsonObject[]): JsonObject {
  return { object: 'whatsapp_business_account', entry: [{ id: BUSINESS.accountId, changes }] };
}

/** A notification of one `messages` change carrying these messages, with their sender as contact. */
export function messagesNotification(...messages: Json[]): JsonObject {
  return notification({ value: messagesValue({ contacts: [contact()], messages }), field: 'messages' });
}

/** Three messages and two delivery receipts in one change, as Meta batches them. */
export function batchNotification(): JsonObject {
  return notification({
    value: messagesValue({
      contacts: [contact()],
      messages: [textMessage('first'), imageMessage('second'), reactionMessage('\u{1F44D}')],
      statuses: [deliveryStatus('delivered'), deliveryStatus('read')],
    }),
    field: 'messages',
  });
}

export function statusOnlyNotification(): JsonObject {
  return notification({ value: messagesValue({ statuses: [deliveryStatus('sent')] }), field: 'messages' });
}

export function withheldNumberNotification(body: string): JsonObject {
  return notification({ value: messagesValue({ contacts: [contact(true)], messages: [withheldNumberMessage(body)] }), field: 'messages' });
}

/**
 * JSON as Meta serialises it: every code unit beyond ASCII as a lowercase `\uXXXX` escape (an emoji
 * as its two surrogates) and `/` as `\/`. Both may appear only inside strings, so rewriting the
 * text of JSON.stringify is exact. Meta signs these bytes: re-serialising the parsed body loses them.
 */
export function metaJson(value: Json): string {
  return JSON.stringify(value)
    .replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replaceAll('/', '\\/');
}

/** The body Meta would send for `value` and the headers of its POST, signed with `appSecret`. */
export function signedWhatsApp(value: Json, appSecret: string): { body: string; headers: Record<string, string> } {
  const body = metaJson(value);
  return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signHubBody(appSecret, body) } };
}
