import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preparePassword, saslprep } from '../../../src/store/postgres/wire/saslprep.ts';

test('RFC 4013 examples: soft hyphen dropped, compatibility characters normalized', () => {
  assert.equal(saslprep('I\u00adX'), 'IX');
  assert.equal(saslprep('\u00aa'), 'a');
  assert.equal(saslprep('\u2168'), 'IX');
  assert.equal(saslprep('ﬁnal\u00e9'), 'finalé');
});

test('a pure ASCII password is used as it is, control characters included, as PostgreSQL does', () => {
  assert.equal(saslprep('user'), 'user');
  assert.equal(saslprep('a\u0007b'), 'a\u0007b');
  assert.equal(saslprep(''), '');
});

test('non-ASCII spaces become U+0020 and zero-width characters disappear', () => {
  assert.equal(saslprep('pass\u00a0word\u3000x'), 'pass word x');
  assert.equal(saslprep('pa\u200css\ufeffé'), 'passé');
  // U+200B is in both tables; PostgreSQL maps it as a space first.
  assert.equal(saslprep('a\u200bé'), 'a é');
});

test('prohibited, unassigned (in Unicode 3.2) and empty results are refused, and then used raw', () => {
  for (const password of ['é\u0007', 'é\ue000', 'é\u{1f600}', '\u00ad', 'é\u2028', 'é\ud800']) {
    assert.equal(saslprep(password), null, JSON.stringify(password));
    assert.equal(preparePassword(password), password);
  }
  assert.equal(preparePassword('ﬁ'), 'fi');
});

test('right-to-left text must not mix with left-to-right letters and must start and end right-to-left', () => {
  assert.equal(saslprep('\u05d0\u05d1\u05d2'), '\u05d0\u05d1\u05d2');
  assert.equal(saslprep('\u0627\u0031\u0628'), '\u0627\u0031\u0628');
  assert.equal(saslprep('\u0627\u0031'), null, 'RFC 3454 example: ends with a digit');
  assert.equal(saslprep('\u05d0a\u05d1'), null, 'a Latin letter inside Hebrew');
});

test('the checks look at the mapped string before normalization, as PostgreSQL does', () => {
  // U+FB1D (Hebrew yod with hiriq) is RandALCat; its NFKC form starts with U+05D9, also RandALCat,
  // then U+05B4, a mark: checked after normalization this would fail the "ends with RandALCat" rule.
  assert.equal(saslprep('\ufb1d'), '\ufb1d'.normalize('NFKC'));
});
