import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { withStatementCache } from '../../src/storage/sqlite-statement-cache.js';

test('reuses compiled statements and stays bounded', () => {
  const raw = new BetterSqlite3(':memory:');
  let compiled = 0;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    compiled++;
    return prepare(sql);
  }) as typeof raw.prepare;
  const db = withStatementCache(raw, 3);
  db.prepare('create table t (x integer)').run([]);
  for (let i = 0; i < 10; i++) db.prepare('insert into t (x) values (?)').run([i]);
  assert.equal(compiled, 2, 'the insert compiled once');
  assert.deepEqual(db.prepare('select count(*) as n from t').all([]), [{ n: 10 }]);
  for (let i = 0; i < 10; i++) db.prepare(`select ${i} as v`).all([]);
  const before = compiled;
  db.prepare('select 0 as v').all([]); // evicted long ago: compiled again
  assert.equal(compiled, before + 1);
  db.close();
});
