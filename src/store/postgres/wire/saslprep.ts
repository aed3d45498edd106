// SASLprep (RFC 4013) of a password, the way PostgreSQL does it (src/common/saslprep.c), because
// the server prepared the password the same way when it computed the stored SCRAM verifier: any
// difference, however "more correct", is a failed login. So:
// - a pure ASCII password is used as it is, with no check at all;
// - otherwise: non-ASCII spaces become U+0020, "mapped to nothing" characters are dropped, the
//   result is normalized with NFKC; the prohibited, unassigned and bidirectional checks look at
//   the mapped string before normalization (as PostgreSQL does; the RFC says after);
// - a password that fails (a prohibited or unassigned character, an empty result, a bad mix of
//   right-to-left and left-to-right letters, a lone UTF-16 surrogate) is used raw, not refused:
//   PostgreSQL does the same on both sides, since such passwords must still work.
import { L_CAT, MAPPED_TO_NOTHING, NON_ASCII_SPACE, PROHIBITED, RAND_AL_CAT, UNASSIGNED } from './saslprep-tables.ts';

type Ranges = Uint32Array;

/** "a0 2000-200b" → [0xa0, 0xa0, 0x2000, 0x200b]: inclusive pairs, ascending. */
function ranges(packed: string): Ranges {
  const bounds: number[] = [];
  for (const item of packed.split(' ')) {
    const [start, end] = item.split('-');
    bounds.push(parseInt(start as string, 16), parseInt(end ?? (start as string), 16));
  }
  return Uint32Array.from(bounds);
}

function inRanges(table: Ranges, code: number): boolean {
  let low = 0;
  let high = table.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (code < (table[2 * middle] as number)) high = middle - 1;
    else if (code > (table[2 * middle + 1] as number)) low = middle + 1;
    else return true;
  }
  return false;
}

const TABLES = {
  space: ranges(NON_ASCII_SPACE),
  nothing: ranges(MAPPED_TO_NOTHING),
  prohibited: ranges(PROHIBITED),
  unassigned: ranges(UNASSIGNED),
  randAl: ranges(RAND_AL_CAT),
  l: ranges(L_CAT),
};

/** The prepared password, or null when SASLprep refuses it (the caller then uses it raw). */
export function saslprep(password: string): string | null {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  if (!password.isWellFormed()) return null;

  const mapped: number[] = [];
  for (const character of password) {
    const code = character.codePointAt(0) as number;
    if (inRanges(TABLES.space, code)) mapped.push(0x20);
    else if (!inRanges(TABLES.nothing, code)) mapped.push(code);
  }
  if (mapped.length === 0) return null;

  for (const code of mapped) {
    if (inRanges(TABLES.prohibited, code) || inRanges(TABLES.unassigned, code)) return null;
  }
  // RFC 3454 section 6: a string with any right-to-left character has no left-to-right one, and
  // starts and ends with a right-to-left character.
  if (mapped.some((code) => inRanges(TABLES.randAl, code))) {
    if (mapped.some((code) => inRanges(TABLES.l, code))) return null;
    if (!inRanges(TABLES.randAl, mapped[0] as number) || !inRanges(TABLES.randAl, mapped.at(-1) as number)) return null;
  }
  return mapped.map((code) => String.fromCodePoint(code)).join('').normalize('NFKC');
}

/** What PostgreSQL hashes: the prepared password, or the password as it is when SASLprep refuses it. */
export function preparePassword(password: string): string {
  return saslprep(password) ?? password;
}
