import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textArrayLiteral } from '../../../src/store/postgres/wire/text-array.ts';

test('every element is quoted; quotes and backslashes are escaped; null is a bare NULL', () => {
  assert.equal(textArrayLiteral(['a', 'b"c', 'd\\e', null]), '{"a","b\\"c","d\\\\e",NULL}');
});

test('array syntax inside an element stays text: braces, commas, spaces, the word NULL, the empty string', () => {
  assert.equal(textArrayLiteral(['{x}', 'a,b', ' padded ', 'NULL', '']), '{"{x}","a,b"," padded ","NULL",""}');
});

test('an empty list is the empty array', () => {
  assert.equal(textArrayLiteral([]), '{}');
});
