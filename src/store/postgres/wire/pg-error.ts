// PgError: an ErrorResponse from the server. Its `message` is generic ("postgres error 23505") and
// only `code` (SQLSTATE) and `severity` sit beside it, because the server's own text can quote row
// data, SQL and identifiers ("Key (email)=(alice@example.com) already exists"), and our logs must
// never hold those. The text is kept in `server`, which is not enumerable, so that util.inspect and
// JSON.stringify of the error leave it out too; code may read it (a constraint name, say), but
// must never log it.

/** Severities as the server sends them in the never-localized `V` field. */
const SEVERITIES = ['ERROR', 'FATAL', 'PANIC', 'WARNING', 'NOTICE', 'DEBUG', 'INFO', 'LOG'] as const;
export type PgSeverity = (typeof SEVERITIES)[number];

/** The ErrorResponse/NoticeResponse fields besides code and severity. May hold data: never log. */
export type PgServerText = {
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
  readonly internalPosition?: string;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: string;
  readonly routine?: string;
};

/** Protocol field type codes (Error and Notice Message Fields); unknown codes are ignored, as the protocol requires. */
const TEXT_FIELDS: Readonly<Record<string, Exclude<keyof PgServerText, 'message'>>> = {
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
};

export class PgError extends Error {
  /** SQLSTATE, five characters (checked): safe to log. */
  readonly code: string;
  readonly severity: PgSeverity;
  /**
   * Which statement of the query or pipeline failed (0-based); null when the error came after them
   * all (the implicit commit at Sync) or outside any query (startup, a FATAL while idle).
   */
  readonly statementIndex: number | null;
  declare readonly server: PgServerText;

  constructor(code: string, severity: PgSeverity, server: PgServerText, statementIndex: number | null = null) {
    super(`postgres error ${code}`);
    this.name = 'PgError';
    this.code = code;
    this.severity = severity;
    this.statementIndex = statementIndex;
    Object.defineProperty(this, 'server', { value: server, enumerable: false });
  }
}

/** A NoticeResponse (a RAISE NOTICE, a WARNING...). `server` may hold data: never log it. */
export type PgNotice = { code: string; severity: PgSeverity; server: PgServerText };

/**
 * Reads decoded fields (code letter → text) into a notice, or null when the SQLSTATE is not five
 * digits or capital letters: the code goes into messages and logs, so nothing else may pass as one.
 */
export function noticeFromFields(fields: ReadonlyMap<string, string>): PgNotice | null {
  const code = fields.get('C');
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return null;
  // `S` is translated to the server's language; `V` (servers since 9.6) never is.
  const named = fields.get('V') ?? fields.get('S') ?? '';
  const severity = SEVERITIES.find((known) => known === named) ?? 'ERROR';
  const server: Record<string, string> = { message: fields.get('M') ?? '' };
  for (const [letter, value] of fields) {
    const name = Object.hasOwn(TEXT_FIELDS, letter) ? TEXT_FIELDS[letter] : undefined;
    if (name !== undefined) server[name] = value;
  }
  return { code, severity, server: server as PgServerText };
}

export function pgErrorFromFields(fields: ReadonlyMap<string, string>, statementIndex: number | null = null): PgError | null {
  const notice = noticeFromFields(fields);
  return notice === null ? null : new PgError(notice.code, notice.severity, notice.server, statementIndex);
}
