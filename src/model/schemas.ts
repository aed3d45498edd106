// JSON Schemas of what the API sends and receives, built from the same constants the validators and
// the model use (limits, patterns), so the published contract (/openapi.json) cannot drift from
// what the code checks. Plain data: the OpenAPI document puts them under components.schemas.
import { MAX_MESSAGE_ID_CHARACTERS, MAX_TEXT_CHARACTERS, MSISDN } from './message.ts';

export type JsonSchema = { readonly [key: string]: unknown };

const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';

export type SchemaName = 'Message' | 'StoredMessage' | 'MessagePage' | 'Stats' | 'Accepted' | 'Erased' | 'Health' | 'Error' | 'ValidationError';

/** A reference to one of SCHEMAS, as the OpenAPI document holds them. */
export const ref = (name: SchemaName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

export const SCHEMAS = {
  /** A message as /webhook receives it and every listing returns it. */
  Message: {
    type: 'object',
    required: ['message_id', 'from', 'to', 'ts'],
    properties: {
      message_id: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_CHARACTERS, description: 'The idempotency key: a message is stored once.' },
      from: { type: 'string', pattern: MSISDN.source, description: 'The sender, E.164. Messages from a WhatsApp user whose number Meta withholds hold `wa:` and the business-scoped user id.' },
      to: { type: 'string', pattern: MSISDN.source },
      ts: { type: 'string', pattern: TIMESTAMP_PATTERN, description: 'ISO-8601 UTC instant, as sent.' },
      text: { type: ['string', 'null'], maxLength: MAX_TEXT_CHARACTERS, description: 'At most 4096 Unicode code points.' },
    },
  },
  /** A stored message as listed: exactly the five fields (a WhatsApp sender may be `wa:<id>`). */
  StoredMessage: {
    type: 'object',
    required: ['message_id', 'from', 'to', 'ts', 'text'],
    additionalProperties: false,
    properties: {
      message_id: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_CHARACTERS },
      from: { type: 'string', minLength: 1 },
      to: { type: 'string', pattern: MSISDN.source },
      ts: { type: 'string', pattern: TIMESTAMP_PATTERN },
      text: { type: ['string', 'null'], maxLength: MAX_TEXT_CHARACTERS },
    },
  },
  MessagePage: {
    type: 'object',
    required: ['data', 'total', 'limit', 'offset'],
    additionalProperties: false,
    properties: {
      data: { type: 'array', items: ref('StoredMessage') },
      total: { type: 'integer', minimum: 0, description: 'Every message matching the filters, whatever limit, offset or cursor say.' },
      limit: { type: 'integer', minimum: 1 },
      offset: { type: 'integer', minimum: 0 },
    },
  },
  Stats: {
    type: 'object',
    required: ['total_messages', 'senders_count', 'messages_per_sender', 'first_message_ts', 'last_message_ts'],
    additionalProperties: false,
    properties: {
      total_messages: { type: 'integer', minimum: 0 },
      senders_count: { type: 'integer', minimum: 0 },
      messages_per_sender: {
        type: 'array',
        maxItems: 10,
        items: { type: 'object', required: ['from', 'count'], additionalProperties: false, properties: { from: { type: 'string' }, count: { type: 'integer', minimum: 1 } } },
      },
      first_message_ts: { type: ['string', 'null'] },
      last_message_ts: { type: ['string', 'null'] },
    },
  },
  Accepted: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { const: 'ok' } } },
  Erased: { type: 'object', required: ['deleted'], additionalProperties: false, properties: { deleted: { type: 'integer', minimum: 0 } } },
  Health: {
    type: 'object',
    required: ['status'],
    additionalProperties: false,
    properties: {
      status: { enum: ['live', 'ready', 'not_ready'] },
      checks: { type: 'object', additionalProperties: { enum: ['ok', 'missing', 'unavailable'] } },
    },
  },
  /** Every refusal but validation: a short sentence. */
  Error: { type: 'object', required: ['detail'], additionalProperties: false, properties: { detail: { type: 'string' } } },
  /** A 422: one entry per problem, FastAPI-compatible. */
  ValidationError: {
    type: 'object',
    required: ['detail'],
    additionalProperties: false,
    properties: {
      detail: {
        type: 'array',
        items: {
          type: 'object',
          required: ['loc', 'msg', 'type'],
          additionalProperties: false,
          properties: { loc: { type: 'array', items: { type: ['string', 'integer'] } }, msg: { type: 'string' }, type: { type: 'string' } },
        },
      },
    },
  },
} as const satisfies Record<SchemaName, JsonSchema>;
