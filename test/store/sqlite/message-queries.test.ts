import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { listingSql, prepareMessageQueries, trigramQuery } from '../../../src/store/sqlite/message-queries.ts';
import { prepareMessageWriter } from '../../../src/store/sqlite/message-writer.ts';
import { migrate } from '../../../src/store/sqlite/migrations.ts';
import { prepareSearchIndexer } from '../../../src/store/sqlite/search-index.ts';
import type { MessageQuery } from '../../../src/store/store.ts';
import { inWriteTransaction } from '../../../src/store/sqlite/transaction.ts';
import { normalizeTimestamp, type InboundMessage } from '../../../src/model/message.ts';

const BASE: MessageQuery = { limit: 50, offset: 0, from: null, sinceKey: null, q: null, after: null, maxBytes: 1_048_576 };
const SINCE = '2025-01-15T10:00:00.000000000Z';
const AFTER = { tsKey: SINCE, messageId: 'm1' };

function plan(db: DatabaseSync, sql: string): string {
  const params = Object.fromEntries([...sql.matchAll(/:(\w+)/g)].map(([, name]) => [name as string, name === 'trigrams' ? '"abc"' : 'x']));
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail).join(' | ');
}

const exactly = (plan: string) => new RegExp(`^${plan.replace(/[()|?]/g, (c) => `\\${c}`)}$`);
// A trigram search: the index's candidates, and the rows above the index's mark by id range, each
// sorted, then merged. Never a walk of a listing index.
const TRIGRAM_PAGE = exactly(
  'MERGE (UNION ALL) | LEFT | SCAN messages_text VIRTUAL TABLE INDEX 0:M1 | SEARCH m USING INTEGER PRIMARY KEY (rowid=?) | ' +
    'USE TEMP B-TREE FOR ORDER BY | RIGHT | SEARCH m USING INTEGER PRIMARY KEY (rowid>?) | SCALAR SUBQUERY 2 | ' +
    'SEARCH search_progress USING INTEGER PRIMARY KEY (rowid=?) | USE TEMP B-TREE FOR ORDER BY',
);
const TRIGRAM_COUNT = exactly(
  'SCAN CONSTANT ROW | SCALAR SUBQUERY 1 | SCAN messages_text VIRTUAL TABLE INDEX 0:M1 | SEARCH m USING INTEGER PRIMARY KEY (rowid=?) | ' +
    'SCALAR SUBQUERY 3 | SEARCH m USING INTEGER PRIMARY KEY (rowid>?) | SCALAR SUBQUERY 2 | SEARCH search_progress USING INTEGER PRIMARY KEY (rowid=?)',
);

// Each shape's plan is part of its documented cost (README, "What each query costs"): the queries
// that must stay fast at a million rows read an index range in listing order and never sort.
test('every listing reads an index in order; only a trigram search sorts, and only its candidates and unindexed rows', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  // Registers read_tick(), which every listing calls.
  prepareMessageQueries(db);
  const cases: [string, Partial<MessageQuery>, RegExp, RegExp | null, number?][] = [
    ['first page', {}, /^SCAN m USING INDEX messages_by_instant$/, null],
    ['cursor page', { after: AFTER }, /^SEARCH m USING INDEX messages_by_instant \(\(ts_key,message_id\)>\(\?,\?\)\)$/, null],
    ['since', { sinceKey: SINCE }, /^SEARCH m USING INDEX messages_by_instant \(ts_key>\?\)$/, /^SEARCH m USING COVERING INDEX messages_by_instant \(ts_key>\?\)$/],
    ['from', { from: '+1' }, /^SEARCH m USING INDEX messages_by_sender \(from_msisdn=\?\)$/, null],
    ['from with cursor', { from: '+1', after: AFTER }, /^SEARCH m USING INDEX messages_by_sender \(from_msisdn=\? AND \(ts_key,message_id\)>\(\?,\?\)\)$/, null],
    ['from and since', { from: '+1', sinceKey: SINCE }, /^SEARCH m USING INDEX messages_by_sender \(from_msisdn=\? AND ts_key>\?\)$/, /^SEARCH m USING COVERING INDEX messages_by_sender \(from_msisdn=\? AND ts_key>\?\)$/],
    ['from with few messages and q', { from: '+1', q: 'invoice' }, /^SEARCH m USING INDEX messages_by_sender \(from_msisdn=\?\)$/, /^SEARCH m USING INDEX messages_by_sender \(from_msisdn=\?\)$/],
    ['from with many messages and q', { from: '+1', q: 'invoice' }, TRIGRAM_PAGE, TRIGRAM_COUNT, 5_001],
    ['q', { q: 'invoice' }, TRIGRAM_PAGE, TRIGRAM_COUNT],
    ['q and since with cursor', { q: 'invoice', sinceKey: SINCE, after: AFTER }, TRIGRAM_PAGE, TRIGRAM_COUNT],
    ['q shorter than a trigram', { q: 'ok' }, /^SCAN m USING INDEX messages_by_instant$/, /^SCAN m$/],
  ];
  for (const [name, overrides, pagePlan, countPlan, senderMessages] of cases) {
    const sql = listingSql({ ...BASE, ...overrides }, senderMessages);
    assert.match(plan(db, sql.page), pagePlan, name);
    if (countPlan === null) assert.equal(sql.count, null, `${name}: counted by a maintained counter`);
    else assert.match(plan(db, sql.count as string), countPlan, name);
  }
  db.close();
});

test('trigramQuery asks for every distinct trigram of q, each quoted literally', () => {
  assert.equal(trigramQuery('Invoice'), '"inv" AND "nvo" AND "voi" AND "oic" AND "ice"');
  assert.equal(trigramQuery('aaaa'), '"aaa"');
  assert.equal(trigramQuery('a"b AND'), '"a""b" AND """b " AND "b a" AND " an" AND "and"');
  assert.equal(trigramQuery('100%_x'), '"100" AND "00%" AND "0%_" AND "%_x"');
  assert.equal(trigramQuery('😀ab😀'), '"😀ab" AND "ab😀"');
  assert.equal(trigramQuery('x'.repeat(10) + 'abcdefghijklmnopqrstuvwxyz').split(' AND ').length, 16);
});

test('every search path returns exactly what a plain filter over all rows returns', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  const write = prepareMessageWriter(db);
  const texts = ['Hello World', 'HELLO', 'héllo É', 'hÉllo é', '100% sure', '1000 sure', 'snake_case', 'snakeXcase', 'a\u0000hello', null, '😀 hello 😀', 'he said "hello"'];
  const busy = '+911111111111';
  const sent: InboundMessage[] = [];
  inWriteTransaction(db, () => {
    // One sender with more messages than the row check takes on, so both `from` + q paths run.
    for (let i = 0; i < 6_500; i++) {
      const from = i % 50 === 0 ? '+922222222222' : i % 11 === 0 ? '+933333333333' : busy;
      const ts = `2025-01-${String(1 + (i % 28)).padStart(2, '0')}T10:00:0${i % 10}${i % 4 === 0 ? '.5' : ''}Z`;
      const message = { message_id: `m${(i * 7919) % 6_500}`, from, to: '+1', ts, text: texts[i % texts.length] as string | null };
      sent.push(message);
      write(message, 'now');
    }
  });
  assert.ok(sent.filter((m) => m.from === busy).length > 5_000, 'the busy sender is searched through the index');
  const queries = prepareMessageQueries(db);
  const lowerAscii = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  const ordered = [...sent].sort((x, y) => {
    const [kx, ky] = [normalizeTimestamp(x.ts) as string, normalizeTimestamp(y.ts) as string];
    return kx === ky ? (x.message_id < y.message_id ? -1 : 1) : kx < ky ? -1 : 1;
  });
  // The search index follows the writes (search-index.ts): searches must agree whether none, part
  // or all of the rows are indexed.
  const searchIndex = prepareSearchIndexer(db);
  for (const indexed of [0, 3_000, 6_500]) {
    searchIndex.indexNext(indexed - (sent.length - searchIndex.backlog()));
    assert.equal(searchIndex.backlog(), sent.length - indexed);
    for (const from of [null, busy, '+922222222222', '+000']) {
      for (const sinceKey of [null, '2025-01-20T10:00:05.000000000Z']) {
        for (const q of [null, 'hello', 'HELLO', 'hé', 'héllo', 'É', '% s', '_c', '0 s', '"hello"', '\u0000h', '😀 h', 'zzz', '']) {
          const expected = ordered.filter((m) =>
            (from === null || m.from === from) &&
            (sinceKey === null || (normalizeTimestamp(m.ts) as string) >= sinceKey) &&
            (q === null || (m.text !== null && lowerAscii(m.text).includes(lowerAscii(q)))));
          const page = queries.listMessages({ ...BASE, limit: 100, offset: 7, from, sinceKey, q });
          const label = JSON.stringify({ indexed, from, sinceKey, q });
          assert.equal(page.total, expected.length, label);
          assert.deepEqual(page.messages, expected.slice(7, 107), label);
        }
      }
    }
  }
  db.close();
});
