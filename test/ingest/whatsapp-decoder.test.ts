import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeWhatsApp, MAX_WHATSAPP_MESSAGES, WHATSAPP_IGNORED_KINDS } from '../../src/ingest/decoders/whatsapp.ts';
import type { DecodedPayload } from '../../src/ingest/payload-decoder.ts';
import {
  batchNotification, buttonReplyMessage, contact, deliveryStatus, imageMessage, messagesNotification, messagesValue, metaJson,
  notification, reactionMessage, statusOnlyNotification, textMessage, withheldNumberNotification, without, type Json, type JsonObject,
} from '../support/whatsapp-payloads.ts';

const decode = (value: Json): DecodedPayload => decodeWhatsApp(Buffer.from(metaJson(value)));
const NONE_IGNORED = { statuses: 0, errors: 0, other_fields: 0 };
const FROM = '+16505551234';
const TO = '+15550783881';
const TS = '2025-01-15T10:00:00Z';
const MESSAGE_LOC = ['body', 'entry', 0, 'changes', 0, 'value', 'messages', 0];
const message = (message_id: string, text: string | null, from = FROM) => ({ ok: true, message: { message_id, from, to: TO, ts: TS, text } });
const decodedTexts = (value: Json) => {
  const result = decode(value);
  assert.equal(result.ok, true);
  return result.ok ? result.items.map((item) => (item.ok ? item.message.text : item.issues)) : [];
};

test('a text message becomes one message: wamid, +number, +business number, ISO instant, body', () => {
  assert.deepEqual(decode(messagesNotification(textMessage('Does it come in another color?', 'wamid.A1'))), {
    ok: true, items: [message('wamid.A1', 'Does it come in another color?')], ignored: NONE_IGNORED,
  });
});

test('text that Meta sent escaped (\\u00e4, surrogate pairs, \\/) is stored as the text it stands for', () => {
  const body = metaJson(messagesNotification(textMessage('Grüße, ça va? 😀 https://example.com/a', 'wamid.A2')));
  assert.ok(body.includes('"Gr\\u00fc\\u00dfe, \\u00e7a va? \\ud83d\\ude00 https:\\/\\/example.com\\/a"'), body);
  assert.deepEqual(decodeWhatsApp(Buffer.from(body)), { ok: true, items: [message('wamid.A2', 'Grüße, ça va? 😀 https://example.com/a')], ignored: NONE_IGNORED });
});

test('the text of media is its caption, of an interactive reply its title, of a quick-reply button its text', () => {
  const video = { ...without(imageMessage('x'), 'image'), type: 'video', video: { caption: 'a video', id: '1' } };
  const document = { ...without(imageMessage('x'), 'image'), type: 'document', document: { caption: 'a pdf', filename: 'a.pdf', id: '2' } };
  const listReply = { ...buttonReplyMessage('x'), interactive: { type: 'list_reply', list_reply: { id: 'r1', title: 'Row one', description: 'd' } } };
  const quickReply = { ...without(textMessage('x'), 'text'), type: 'button', button: { payload: 'STOP', text: 'Stop promotions' } };
  assert.deepEqual(
    decodedTexts(messagesNotification(imageMessage('Look at this'), video, document, buttonReplyMessage('Cancel order'), listReply, quickReply)),
    ['Look at this', 'a video', 'a pdf', 'Cancel order', 'Row one', 'Stop promotions'],
  );
});

test('messages without text are stored with text null: reactions, uncaptioned media, locations, audio, new types', () => {
  const uncaptioned = without(imageMessage('x').image as JsonObject, 'caption');
  const base = without(textMessage('x'), 'text');
  const others: JsonObject[] = [
    reactionMessage('👍'),
    { ...imageMessage('x'), image: uncaptioned },
    { ...imageMessage('x'), image: { ...uncaptioned, caption: null } },
    { ...base, type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'HQ' } },
    { ...base, type: 'audio', audio: { voice: true, id: '3', mime_type: 'audio/ogg; codecs=opus' } },
    { ...base, type: 'sticker', sticker: { animated: false, id: '4', mime_type: 'image/webp' } },
    { ...buttonReplyMessage('x'), interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{}' } } },
    { ...base, type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] },
    { ...base, type: 'a-type-meta-adds-next-year' },
  ];
  assert.deepEqual(decodedTexts(messagesNotification(...others)), others.map(() => null));
});

test('a batch of three messages and two receipts gives three messages in order and counts the receipts', () => {
  const result = decode(batchNotification());
  assert.equal(result.ok, true);
  assert.deepEqual(result.ok && result.items.map((item) => item.ok && [item.message.text, item.message.from, item.message.ts]), [
    ['first', FROM, TS], ['second', FROM, TS], [null, FROM, TS],
  ]);
  assert.deepEqual(result.ok && result.ignored, { statuses: 2, errors: 0, other_fields: 0 });
});

test('receipts, errors and changes of other fields are acknowledged and counted by a fixed kind, never stored', () => {
  assert.deepEqual(decode(statusOnlyNotification()), { ok: true, items: [], ignored: { statuses: 1, errors: 0, other_fields: 0 } });
  const errors = [{ code: 131000, title: 'Something went wrong', message: 'Something went wrong', error_data: { details: 'x' } }];
  const value = { ...messagesValue({ statuses: [deliveryStatus('read'), deliveryStatus('sent')] }), errors };
  const result = decode(notification(
    { value, field: 'messages' },
    { value: { phone_number: '15550783881', event: 'VERIFIED_ACCOUNT' }, field: 'account_update' },
    { value: messagesValue({ messages: [textMessage('not read: wrong field')] }), field: 'message_template_status_update' },
    { value: messagesValue({ messages: [textMessage('not read: no field')] }) },
  ));
  assert.deepEqual(result, { ok: true, items: [], ignored: { statuses: 2, errors: 1, other_fields: 3 } });
  assert.deepEqual(result.ok && Object.keys(result.ignored), [...WHATSAPP_IGNORED_KINDS]);
});

test('a sender whose number is withheld is stored as wa: and the business-scoped user id', () => {
  assert.deepEqual(decode(withheldNumberNotification('hi')), {
    ok: true, items: [message('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUU4RTdCMUY1RDM2QTQ2NTZBNQA=', 'hi', 'wa:US.13491208655302741918')],
    ignored: NONE_IGNORED,
  });
  const both = { ...textMessage('hi', 'wamid.B1'), from_user_id: 'US.13491208655302741918' };
  assert.deepEqual(decode(messagesNotification(both)), { ok: true, items: [message('wamid.B1', 'hi')], ignored: NONE_IGNORED }, 'a number wins');
  const parent = { ...without(textMessage('hi', 'wamid.B2'), 'from'), from_user_id: 'BR.ENT.1502576394655843' };
  assert.deepEqual(decode(messagesNotification(parent)), {
    ok: true, items: [message('wamid.B2', 'hi', 'wa:BR.ENT.1502576394655843')], ignored: NONE_IGNORED,
  });
});

test('a sender that is neither a number nor a business-scoped user id is refused where it is', () => {
  const anonymous = without(textMessage('hi'), 'from');
  const cases: [JsonObject, (string | number)[], string][] = [
    [anonymous, ['from'], 'missing'],
    [{ ...textMessage('hi'), from: '+16505551234' }, ['from'], 'string_pattern_mismatch'],
    [{ ...textMessage('hi'), from: '1234567890123456' }, ['from'], 'string_pattern_mismatch'],
    [{ ...textMessage('hi'), from: 16505551234 }, ['from'], 'string_type'],
    [{ ...anonymous, from_user_id: 'US13491208655302741918' }, ['from_user_id'], 'string_pattern_mismatch'],
    [{ ...anonymous, from_user_id: `US.${'1'.repeat(129)}` }, ['from_user_id'], 'string_pattern_mismatch'],
    [{ ...anonymous, from_user_id: 'US.1349/../x' }, ['from_user_id'], 'string_pattern_mismatch'],
    [{ ...anonymous, from_user_id: contact(true) }, ['from_user_id'], 'string_type'],
  ];
  for (const [input, suffix, type] of cases) {
    const result = decode(messagesNotification(input));
    const item = result.ok ? result.items[0] : undefined;
    assert.deepEqual(item && !item.ok && item.issues.map((issue) => [issue.loc, issue.type]), [[[...MESSAGE_LOC, ...suffix], type]], JSON.stringify(input));
  }
});

test('Unix-second timestamps map to whole-second ISO instants, and anything else is refused at its loc', () => {
  const at = (timestamp: Json) => {
    const result = decode(messagesNotification({ ...textMessage('x'), timestamp }));
    const item = result.ok ? result.items[0] : undefined;
    return item?.ok ? item.message.ts : item?.issues.map((issue) => [issue.loc.at(-1), issue.type]);
  };
  assert.equal(at('1736935200'), '2025-01-15T10:00:00Z');
  assert.equal(at('0'), '1970-01-01T00:00:00Z');
  assert.equal(at('253402300799'), '9999-12-31T23:59:59Z');
  for (const bad of ['253402300800', '-1', '1736935200.5', '2025-01-15T10:00:00Z', '', ' 1736935200', '1'.repeat(13)]) {
    assert.deepEqual(at(bad), [['timestamp', 'value_error']], bad);
  }
  assert.deepEqual(at(1736935200), [['timestamp', 'string_type']]);
  assert.deepEqual(at(null), [['timestamp', 'string_type']]);
});

test('each message of a batch is checked on its own, its issues located in the notification', () => {
  const tooLong = 'é'.repeat(4097);
  const result = decode(notification(
    { value: messagesValue({ statuses: [deliveryStatus('read')] }), field: 'messages' },
    { value: messagesValue({ messages: [
      textMessage('fine', 'wamid.C1'),
      without(textMessage('x'), 'id'),
      { ...textMessage(tooLong), timestamp: 'yesterday' },
      textMessage('\ud800'),
      { ...textMessage('x'), text: { body: 42 } },
      { ...textMessage('x'), text: null },
      without(textMessage('x'), 'type'),
      'not a message',
      { ...textMessage('x'), id: 'i'.repeat(257) },
      { ...textMessage('x'), id: '' },
      { ...buttonReplyMessage('x'), interactive: { type: 'button_reply', button_reply: { id: 'b' } } },
    ] }), field: 'messages' },
  ));
  const at = (...suffix: (string | number)[]) => ['body', 'entry', 0, 'changes', 1, 'value', 'messages', ...suffix];
  assert.equal(result.ok, true);
  assert.deepEqual(result.ok && result.items.map((item) => (item.ok ? item.message.message_id : item.issues)), [
    'wamid.C1',
    [{ loc: at(1, 'id'), msg: 'Field required', type: 'missing' }],
    [
      { loc: at(2, 'timestamp'), msg: 'Value error, timestamp must be Unix seconds as a string of digits, e.g. 1736935200', type: 'value_error' },
      { loc: at(2, 'text', 'body'), msg: 'String should have at most 4096 characters', type: 'string_too_long' },
    ],
    [{ loc: at(3, 'text', 'body'), msg: 'Input should be a valid string, unable to parse raw data as a unicode string', type: 'string_unicode' }],
    [{ loc: at(4, 'text', 'body'), msg: 'Input should be a valid string', type: 'string_type' }],
    [{ loc: at(5, 'text'), msg: 'Input should be a valid dictionary or object', type: 'model_attributes_type' }],
    [{ loc: at(6, 'type'), msg: 'Field required', type: 'missing' }],
    [{ loc: at(7), msg: 'Input should be a valid dictionary or object', type: 'model_attributes_type' }],
    [{ loc: at(8, 'id'), msg: 'String should have at most 256 characters', type: 'string_too_long' }],
    [{ loc: at(9, 'id'), msg: 'String should have at least 1 character', type: 'string_too_short' }],
    [{ loc: at(10, 'interactive', 'button_reply', 'title'), msg: 'Field required', type: 'missing' }],
  ]);
  assert.deepEqual(result.ok && result.ignored, { statuses: 1, errors: 0, other_fields: 0 });
});

test('text is bounded in code points as in the flat payload: 4096 emoji pass, one more does not', () => {
  assert.deepEqual(decodedTexts(messagesNotification(textMessage('😀'.repeat(4096)))), ['😀'.repeat(4096)]);
  const [issues] = decodedTexts(messagesNotification(imageMessage('😀'.repeat(4097))));
  assert.deepEqual(issues, [{ loc: [...MESSAGE_LOC, 'image', 'caption'], msg: 'String should have at most 4096 characters', type: 'string_too_long' }]);
});

test('the business display number is normalised to +digits, and a bad one fails every message of its change', () => {
  const withDisplay = (display: Json, ...messages: JsonObject[]) => {
    const value = messagesValue({ messages });
    return notification({ value: { ...value, metadata: { display_phone_number: display, phone_number_id: '1' } }, field: 'messages' });
  };
  for (const display of ['15550783881', '+15550783881', '+1 555-078-3881', '1 (555) 078.3881']) {
    const result = decode(withDisplay(display, textMessage('x')));
    assert.equal(result.ok && result.items[0]?.ok && result.items[0].message.to, TO, display);
  }
  const metadataLoc = ['body', 'entry', 0, 'changes', 0, 'value', 'metadata'];
  const pattern = { loc: [...metadataLoc, 'display_phone_number'], msg: "String should match pattern '^\\d{1,15}$'", type: 'string_pattern_mismatch' };
  for (const display of ['', '+', 'call us', '1234567890123456', '15550783881 ext 2', `1${' '.repeat(40)}5`]) {
    assert.deepEqual(decode(withDisplay(display, textMessage('a'), textMessage('b'))), {
      ok: true, items: [{ ok: false, issues: [pattern] }, { ok: false, issues: [pattern] }], ignored: NONE_IGNORED,
    }, display);
  }
  const noMetadata = without(messagesValue({ messages: [textMessage('x')] }), 'metadata');
  assert.deepEqual(decode(notification({ value: noMetadata, field: 'messages' })), {
    ok: true, items: [{ ok: false, issues: [{ loc: metadataLoc, msg: 'Field required', type: 'missing' }] }], ignored: NONE_IGNORED,
  });
});

test('a body that is not a WhatsApp notification is refused as a whole, with a pointer to the first problem', () => {
  const refused = (body: string | Buffer, loc: (string | number)[], type: string) => {
    const result = decodeWhatsApp(Buffer.isBuffer(body) ? body : Buffer.from(body));
    assert.equal(result.ok, false, String(body));
    assert.deepEqual(!result.ok && result.issues.map((issue) => [issue.loc, issue.type]), [[loc, type]], String(body));
  };
  refused('{', ['body'], 'json_invalid');
  refused(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), ['body'], 'json_invalid');
  refused('[]', ['body'], 'model_attributes_type');
  refused('{"entry":[]}', ['body', 'object'], 'missing');
  refused('{"object":"page","entry":[]}', ['body', 'object'], 'literal_error');
  refused('{"object":"whatsapp_business_account"}', ['body', 'entry'], 'missing');
  refused('{"object":"whatsapp_business_account","entry":{}}', ['body', 'entry'], 'list_type');
  refused('{"object":"whatsapp_business_account","entry":[{"id":"1"},"x"]}', ['body', 'entry', 0, 'changes'], 'missing');
  refused('{"object":"whatsapp_business_account","entry":[{"changes":[]},"x"]}', ['body', 'entry', 1], 'model_attributes_type');
  refused('{"object":"whatsapp_business_account","entry":[{"changes":[null]}]}', ['body', 'entry', 0, 'changes', 0], 'model_attributes_type');
  refused('{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}', ['body', 'entry', 0, 'changes', 0, 'value'], 'missing');
  refused(
    '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":{}}}]}]}',
    ['body', 'entry', 0, 'changes', 0, 'value', 'messages'], 'list_type',
  );
  refused(
    '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":1}}]}]}',
    ['body', 'entry', 0, 'changes', 0, 'value', 'statuses'], 'list_type',
  );
  assert.deepEqual(decode({ object: 'whatsapp_business_account', entry: [] }), { ok: true, items: [], ignored: NONE_IGNORED });
});

test(`a notification of more than ${MAX_WHATSAPP_MESSAGES} messages is refused before any is mapped, across changes too`, () => {
  const many = (count: number) => Array.from({ length: count }, (_, index) => textMessage('x', `wamid.${index}`));
  const change = (count: number) => ({ value: messagesValue({ messages: many(count) }), field: 'messages' });
  const atLimit = decode(notification(change(MAX_WHATSAPP_MESSAGES)));
  assert.equal(atLimit.ok && atLimit.items.length, MAX_WHATSAPP_MESSAGES);
  const tooMany = { ok: false, issues: [{ loc: ['body'], msg: `A notification should carry at most ${MAX_WHATSAPP_MESSAGES} messages`, type: 'too_long' }] };
  assert.deepEqual(decode(notification(change(MAX_WHATSAPP_MESSAGES + 1))), tooMany);
  assert.deepEqual(decode(notification(change(5_000), change(5_001))), tooMany);
  assert.deepEqual(decode(notification(change(MAX_WHATSAPP_MESSAGES), { value: { messages: ['x'] }, field: 'messages' })), tooMany);
});

test('only own fields are read: __proto__ in a payload is data, never a prototype, and pollutes nothing', () => {
  const body = '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"__proto__":{"messages":[1],'
    + '"statuses":[1]},"metadata":{"display_phone_number":"15550783881"},"messages":[{"__proto__":{"id":"wamid.P"},'
    + '"from":"16505551234","timestamp":"1736935200","type":"text","text":{"body":"x","__proto__":{"polluted":true}}}]}}]}]}';
  assert.deepEqual(decodeWhatsApp(Buffer.from(body)), {
    ok: true, items: [{ ok: false, issues: [{ loc: [...MESSAGE_LOC, 'id'], msg: 'Field required', type: 'missing' }] }], ignored: NONE_IGNORED,
  });
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  assert.equal(({} as Record<string, unknown>).messages, undefined);
});

test('fields inherited from a polluted Object.prototype are not read as the payload\'s', (t) => {
  const uncaptioned = imageMessage('x', 'wamid.D2');
  const body = Buffer.from(metaJson(notification(
    { value: messagesValue({ messages: [without(without(textMessage('x'), 'id'), 'from'), { ...uncaptioned, image: without(uncaptioned.image as JsonObject, 'caption') }] }), field: 'messages' },
    { value: messagesValue({}), field: 'messages' },
  )));
  const inherited = { id: 'wamid.INHERITED', from_user_id: 'US.1', caption: 'inherited', messages: [textMessage('x')] };
  for (const [name, value] of Object.entries(inherited)) {
    Object.defineProperty(Object.prototype, name, { value, configurable: true, writable: true, enumerable: false });
    t.after(() => delete (Object.prototype as Record<string, unknown>)[name]);
  }
  assert.deepEqual(decodeWhatsApp(body), {
    ok: true,
    items: [
      { ok: false, issues: [{ loc: [...MESSAGE_LOC, 'id'], msg: 'Field required', type: 'missing' }, { loc: [...MESSAGE_LOC, 'from'], msg: 'Field required', type: 'missing' }] },
      message('wamid.D2', null),
    ],
    ignored: NONE_IGNORED,
  });
});

test('issues never echo what was sent', () => {
  const secretish = 'do-not-echo-me';
  const result = decode(messagesNotification(
    { ...textMessage('x'), from: secretish, timestamp: secretish, id: secretish.repeat(30), from_user_id: secretish },
    { ...textMessage(secretish.repeat(300)) },
  ));
  assert.equal(result.ok && result.items.every((item) => !item.ok), true);
  assert.ok(!JSON.stringify(result).includes(secretish));
});
