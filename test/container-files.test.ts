import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('the Dockerfile labels the image with the version in package.json', () => {
  const { version } = JSON.parse(read('package.json')) as { version: string };
  const declared = /^ARG VERSION=(\S+)$/m.exec(read('Dockerfile'))?.[1];
  assert.equal(declared, version);
});
