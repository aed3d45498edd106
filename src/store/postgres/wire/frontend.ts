// Frontend (client → server) messages of protocol 3.0, as bytes. Pure functions. Strings in the
// protocol end at a NUL byte, so one inside a name, the SQL or a password would end the field
// early and let the rest be read as further fields; such strings are refused, never sent.
import { PgClientError } from './pg-client-error.ts';

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST_CODE = 80877103;
const CANCEL_REQUEST_CODE = 80877102;
/** The server refuses any message over 1 GiB; refusing here says why instead of a lost connection. */
const MAX_MESSAGE_BYTES = 0x3fffffff;
/** Bind counts parameters in an Int16. */
export const MAX_PARAMETERS = 65535;

export type Param = string | null;

function cstring(text: string, what: string): Buffer {
  if (text.includes('\0')) throw new PgClientError('invalid_query', `${what} holds a NUL character`);
  return Buffer.from(`${text}\0`, 'utf8');
}

function int16(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(4);
  buffer.writeInt32BE(value);
  return buffer;
}

/** A message: its type byte (none for the startup-phase packets), its Int32 length, its parts. */
function frame(type: string | null, parts: readonly Buffer[]): Buffer {
  const bodyLength = parts.reduce((sum, part) => sum + part.length, 0);
  if (bodyLength + 4 > MAX_MESSAGE_BYTES) throw new PgClientError('invalid_query', 'message over 1 GiB');
  const head = type === null ? int32(bodyLength + 4) : Buffer.concat([Buffer.from(type, 'latin1'), int32(bodyLength + 4)]);
  return Buffer.concat([head, ...parts]);
}

export const sslRequest = (): Buffer => frame(null, [int32(SSL_REQUEST_CODE)]);

/** The startup packet: protocol 3.0 and name/value pairs (user, database, client_encoding...). */
export function startupMessage(parameters: readonly (readonly [string, string])[]): Buffer {
  const parts = [int32(PROTOCOL_3_0)];
  for (const [name, value] of parameters) parts.push(cstring(name, 'a startup parameter name'), cstring(value, 'a startup parameter value'));
  parts.push(Buffer.from([0]));
  return frame(null, parts);
}

export const cancelRequest = (processId: number, secretKey: number): Buffer =>
  frame(null, [int32(CANCEL_REQUEST_CODE), int32(processId), int32(secretKey)]);

export const saslInitialResponse = (mechanism: string, data: Buffer): Buffer =>
  frame('p', [cstring(mechanism, 'the SASL mechanism'), int32(data.length), data]);

export const saslResponse = (data: Buffer): Buffer => frame('p', [data]);

export const passwordMessage = (password: string): Buffer => frame('p', [cstring(password, 'the password')]);

/** Parse into the unnamed statement, no parameter types given: the server infers them (or reads casts). */
export const parse = (sql: string): Buffer => frame('P', [Buffer.from([0]), cstring(sql, 'the SQL text'), int16(0)]);

/** Bind to the unnamed portal: every parameter in text format (null as length -1), every result column in text. */
export function bind(params: readonly Param[]): Buffer {
  if (params.length > MAX_PARAMETERS) throw new PgClientError('invalid_query', 'more than 65535 parameters');
  const parts = [Buffer.from([0, 0]), int16(0), int16(params.length)];
  for (const param of params) {
    if (param === null) {
      parts.push(int32(-1));
    } else if (typeof param === 'string') {
      // A lone UTF-16 surrogate has no UTF-8 form: Buffer writes U+FFFD in its place.
      const bytes = Buffer.from(param, 'utf8');
      parts.push(int32(bytes.length), bytes);
    } else {
      throw new PgClientError('invalid_query', 'a parameter is neither a string nor null');
    }
  }
  parts.push(int16(0));
  return frame('B', parts);
}

export const describePortal = (): Buffer => frame('D', [Buffer.from('P\0', 'latin1')]);

/** Execute the unnamed portal; `maxRows` 0 means all rows, otherwise the server stops there (PortalSuspended). */
export const execute = (maxRows: number): Buffer => frame('E', [Buffer.from([0]), int32(maxRows)]);

export const sync = (): Buffer => frame('S', []);

export const terminate = (): Buffer => frame('X', []);

export type Statement = { readonly sql: string; readonly params?: readonly Param[] };

/**
 * Every statement as Parse, Bind, Describe, Execute, then one Sync: the server runs them in one
 * implicit transaction (unless one of them is BEGIN or COMMIT), and on an error skips to the Sync.
 */
export function extendedQuery(statements: readonly Statement[], maxRows: number): Buffer {
  const messages: Buffer[] = [];
  for (const statement of statements) {
    messages.push(parse(statement.sql), bind(statement.params ?? []), describePortal(), execute(maxRows));
  }
  messages.push(sync());
  return Buffer.concat(messages);
}
