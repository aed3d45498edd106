// Decoders for the bodies of backend (server → client) messages. Pure functions. Each reads the
// body strictly: a field past the end, a string without its NUL, a count that does not match, or
// bytes left over are protocol violations (PgClientError), never guessed around.
import { PgClientError } from './pg-client-error.ts';

const violation = (what: string) => new PgClientError('protocol_violation', what);

/** Reads a body front to back; every read checks the bytes are there. */
function cursor(body: Buffer, what: string) {
  let offset = 0;
  const need = (count: number) => {
    if (count < 0 || offset + count > body.length) throw violation(`${what} is cut short`);
  };
  return {
    int16(): number {
      need(2);
      offset += 2;
      return body.readInt16BE(offset - 2);
    },
    int32(): number {
      need(4);
      offset += 4;
      return body.readInt32BE(offset - 4);
    },
    byte(): number {
      need(1);
      return body[offset++] as number;
    },
    cstring(): string {
      const end = body.indexOf(0, offset);
      if (end === -1) throw violation(`${what} has a string without its end`);
      const text = body.toString('utf8', offset, end);
      offset = end + 1;
      return text;
    },
    bytes(count: number): Buffer {
      need(count);
      offset += count;
      return body.subarray(offset - count, offset);
    },
    rest(): Buffer {
      const rest = body.subarray(offset);
      offset = body.length;
      return rest;
    },
    end(): void {
      if (offset !== body.length) throw violation(`${what} has bytes past its end`);
    },
  };
}

/** 'R': the authentication request code, and its data (salt, SASL mechanisms or SASL data). */
export function decodeAuthentication(body: Buffer): { code: number; data: Buffer } {
  const read = cursor(body, 'an authentication request');
  return { code: read.int32(), data: read.rest() };
}

/** The data of AuthenticationSASL: mechanism names, each NUL-terminated, then an empty one. */
export function decodeSaslMechanisms(data: Buffer): string[] {
  const read = cursor(data, 'the SASL mechanism list');
  const names: string[] = [];
  for (let name = read.cstring(); name !== ''; name = read.cstring()) names.push(name);
  read.end();
  return names;
}

/** 'S': a run-time parameter the server reports (client_encoding, server_version...). */
export function decodeParameterStatus(body: Buffer): { name: string; value: string } {
  const read = cursor(body, 'a ParameterStatus');
  const name = read.cstring();
  const value = read.cstring();
  read.end();
  return { name, value };
}

/** 'K': what a CancelRequest must quote (protocol 3.0: two Int32). */
export function decodeBackendKeyData(body: Buffer): { processId: number; secretKey: number } {
  const read = cursor(body, 'a BackendKeyData');
  const processId = read.int32();
  const secretKey = read.int32();
  read.end();
  return { processId, secretKey };
}

export type TransactionStatus = 'idle' | 'in_transaction' | 'failed';
const TRANSACTION_STATUS: Readonly<Record<string, TransactionStatus>> = { I: 'idle', T: 'in_transaction', E: 'failed' };

/** 'Z': the server waits for the next query; the byte says whether a transaction block is open. */
export function decodeReadyForQuery(body: Buffer): TransactionStatus {
  const read = cursor(body, 'a ReadyForQuery');
  const letter = String.fromCharCode(read.byte());
  read.end();
  const status = Object.hasOwn(TRANSACTION_STATUS, letter) ? TRANSACTION_STATUS[letter] : undefined;
  if (status === undefined) throw violation('a ReadyForQuery with an unknown status');
  return status;
}

/** 'E' and 'N': fields, each a code byte and a string, until a zero byte. */
export function decodeFields(body: Buffer): Map<string, string> {
  const read = cursor(body, 'an error or notice');
  const fields = new Map<string, string>();
  for (let code = read.byte(); code !== 0; code = read.byte()) fields.set(String.fromCharCode(code), read.cstring());
  read.end();
  return fields;
}

/** 'T': the result's column names. Every column must come in text format, as Bind asked. */
export function decodeRowDescription(body: Buffer): string[] {
  const read = cursor(body, 'a RowDescription');
  const count = read.int16();
  if (count < 0) throw violation('a RowDescription with a negative count');
  const names: string[] = [];
  for (let index = 0; index < count; index++) {
    names.push(read.cstring());
    read.bytes(16); // table OID, column number, type OID, type size, type modifier
    if (read.int16() !== 0) throw violation('a column not in text format');
  }
  read.end();
  return names;
}

/** 'D': one row, as text or null, with exactly `columnCount` values. */
export function decodeDataRow(body: Buffer, columnCount: number): (string | null)[] {
  const read = cursor(body, 'a DataRow');
  if (read.int16() !== columnCount) throw violation('a DataRow with another column count than its RowDescription');
  const row: (string | null)[] = new Array(columnCount);
  for (let index = 0; index < columnCount; index++) {
    const length = read.int32();
    if (length < -1) throw violation('a DataRow value with a negative length');
    row[index] = length === -1 ? null : read.bytes(length).toString('utf8');
  }
  read.end();
  return row;
}

/** Tags that end with a row count ("INSERT 0 5", "UPDATE 3", "SELECT 2"...). */
const COUNTED = /^(INSERT \d+|UPDATE|DELETE|SELECT|MERGE|MOVE|FETCH|COPY) (\d+)$/;

/** 'C': the command tag, split into the command ("INSERT", "CREATE TABLE") and its row count, if it has one. */
export function decodeCommandComplete(body: Buffer): { command: string; rowCount: number | null } {
  const read = cursor(body, 'a CommandComplete');
  const tag = read.cstring();
  read.end();
  const counted = COUNTED.exec(tag);
  if (counted === null) return { command: tag, rowCount: null };
  const command = (counted[1] as string).startsWith('INSERT') ? 'INSERT' : (counted[1] as string);
  return { command, rowCount: Number(counted[2]) };
}

/** 'A': a NOTIFY delivered to this session. The payload is application data. */
export function decodeNotification(body: Buffer): { processId: number; channel: string; payload: string } {
  const read = cursor(body, 'a NotificationResponse');
  const processId = read.int32();
  const channel = read.cstring();
  const payload = read.cstring();
  read.end();
  return { processId, channel, payload };
}
