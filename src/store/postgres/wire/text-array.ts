// A JS list of strings as one PostgreSQL text[] literal, to bind as a single parameter:
// `SELECT ... FROM unnest($1::text[])`. A list then needs one parameter instead of one each (Bind
// allows 65535) and the SQL text stays constant. Every element is double-quoted, so nothing in it
// (a comma, a brace, whitespace, the word NULL) is read as array syntax; inside the quotes, `"` and
// `\` are backslash-escaped, which is all the array input syntax needs. Null becomes an unquoted
// NULL element.

export function textArrayLiteral(values: readonly (string | null)[]): string {
  const elements = values.map((value) => (value === null ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`));
  return `{${elements.join(',')}}`;
}
