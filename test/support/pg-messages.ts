// Protocol bytes for tests: backend messages as a server would send them, and a reader of what a
// client sends (startup-phase packets have no type byte). Written from the protocol documentation,
// independently of src/store/postgres/wire, so the tests do not check the code against itself.

export function backendMessage(type: string, ...parts: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part)));
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

export function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

export function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

export const authOk = () => backendMessage('R', int32(0));
export const authCleartext = () => backendMessage('R', int32(3));
export const authMd5 = () => backendMessage('R', int32(5), Buffer.from([1, 2, 3, 4]));
export const authSasl = (...mechanisms: string[]) => backendMessage('R', int32(10), ...mechanisms.map((name) => `${name}\0`), '\0');
export const authSaslContinue = (data: string) => backendMessage('R', int32(11), data);
export const authSaslFinal = (data: string) => backendMessage('R', int32(12), data);
export const parameterStatus = (name: string, value: string) => backendMessage('S', `${name}\0${value}\0`);
export const backendKeyData = (processId: number, secretKey: number) => backendMessage('K', int32(processId), int32(secretKey));
export const readyForQuery = (status: 'I' | 'T' | 'E' = 'I') => backendMessage('Z', status);
export const parseComplete = () => backendMessage('1');
export const bindComplete = () => backendMessage('2');
export const noData = () => backendMessage('n');
export const emptyQueryResponse = () => backendMessage('I');
export const portalSuspended = () => backendMessage('s');
export const commandComplete = (tag: string) => backendMessage('C', `${tag}\0`);
export const notification = (processId: number, channel: string, payload: string) => backendMessage('A', int32(processId), `${channel}\0${payload}\0`);
export const copyInResponse = () => backendMessage('G', Buffer.from([0]), int16(0));

/** Text columns: name, table OID, column number, type OID 25 (text), size -1, modifier -1, format 0. */
export function rowDescription(...names: string[]): Buffer {
  const columns = names.map((name) => Buffer.concat([Buffer.from(`${name}\0`), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)]));
  return backendMessage('T', int16(names.length), ...columns);
}

export function dataRow(...values: (string | null)[]): Buffer {
  const cells = values.map((value) => {
    if (value === null) return int32(-1);
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([int32(bytes.length), bytes]);
  });
  return backendMessage('D', int16(values.length), ...cells);
}

/** ErrorResponse ('E') or NoticeResponse ('N') with a SQLSTATE, a severity and field letters → text. */
export function fieldsMessage(type: 'E' | 'N', code: string, severity: string, fields: Record<string, string> = {}): Buffer {
  const all: Record<string, string> = { S: severity, V: severity, C: code, M: 'message text', ...fields };
  return backendMessage(type, ...Object.entries(all).map(([letter, value]) => `${letter}${value}\0`), '\0');
}

export const errorResponse = (code: string, fields: Record<string, string> = {}, severity = 'ERROR') => fieldsMessage('E', code, severity, fields);
export const noticeResponse = (code: string, fields: Record<string, string> = {}) => fieldsMessage('N', code, 'NOTICE', fields);

/** The answer to one statement of an extended query: ParseComplete, BindComplete, description, rows, tag. */
export function statementAnswer(columns: string[], rows: (string | null)[][], tag: string): Buffer {
  const description = columns.length === 0 ? noData() : rowDescription(...columns);
  return Buffer.concat([parseComplete(), bindComplete(), description, ...rows.map((row) => dataRow(...row)), commandComplete(tag)]);
}

export type FrontendMessage = {
  /** The type byte, or 'startup', 'ssl', 'cancel' for the untyped packets. */
  type: string;
  body: Buffer;
};

/** Reads what a client sends: untyped packets until the startup message, typed messages after. */
export function createFrontendReader() {
  let buffered = Buffer.alloc(0);
  let started = false;
  return {
    push(chunk: Buffer): FrontendMessage[] {
      buffered = Buffer.concat([buffered, chunk]);
      const out: FrontendMessage[] = [];
      for (;;) {
        if (!started) {
          if (buffered.length < 8) break;
          const length = buffered.readInt32BE(0);
          if (buffered.length < length) break;
          const code = buffered.readInt32BE(4);
          const body = buffered.subarray(8, length);
          buffered = buffered.subarray(length);
          if (code === 80877103) out.push({ type: 'ssl', body });
          else if (code === 80877102) out.push({ type: 'cancel', body });
          else {
            started = true;
            out.push({ type: 'startup', body });
          }
        } else {
          if (buffered.length < 5) break;
          const length = buffered.readInt32BE(1);
          if (buffered.length < length + 1) break;
          out.push({ type: String.fromCharCode(buffered[0] as number), body: buffered.subarray(5, length + 1) });
          buffered = buffered.subarray(length + 1);
        }
      }
      return out;
    },
  };
}

/** The name/value pairs of a startup message body. */
export function startupParameters(body: Buffer): Record<string, string> {
  const parts = body.toString('utf8').split('\0');
  const parameters: Record<string, string> = {};
  for (let index = 0; index + 1 < parts.length && parts[index] !== ''; index += 2) parameters[parts[index] as string] = parts[index + 1] as string;
  return parameters;
}
