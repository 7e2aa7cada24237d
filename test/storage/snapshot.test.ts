// Snapshots (what backups hold) between every pair of engines: the tables are found from the
// schema — a table no Keyhaven code names is carried too — and values keep their type and
// exact value across engines: bigints past 2^53, blobs with every byte, text beyond ASCII,
// nulls; foreign keys hold whatever order the catalogue lists tables in.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Storage } from '../../src/storage/storage.js';
import { engines, type EngineFixture } from '../helpers/engines.js';

const BIG = '1152921504606846977'; // 2^60 + 1: not a float64
const BLOB = Buffer.from([0, 1, 127, 128, 254, 255, 10, 13]);

function extraTableSql(engine: 'sqlite' | 'postgres'): string[] {
  const blob = engine === 'sqlite' ? 'blob' : 'bytea';
  return [
    // "a_child" sorts before its parent: restore must order by foreign keys, not by name.
    `create table zz_parent (id text primary key, big bigint, data ${blob}, note text, n integer, r real)`,
    `create table a_child (id text primary key, parent_id text not null references zz_parent(id) on delete cascade)`,
  ];
}

describe('storage snapshots across engines', () => {
  const fixtures: EngineFixture[] = [];
  after(async () => {
    for (const f of fixtures) await f.cleanup();
  });

  for (const from of engines) {
    for (const to of engines) {
      it(`${from.name} → ${to.name}: every table, exact values, foreign keys`, async () => {
        const src = await from.create();
        const dst = await to.create();
        fixtures.push(src, dst);
        const a = await Storage.open(src.url);
        const b = await Storage.open(dst.url);
        try {
          for (const s of extraTableSql(from.name)) await src.exec(s);
          for (const s of extraTableSql(to.name)) await dst.exec(s);
          await src.exec(`insert into zz_parent (id, big, data, note, n, r) values ('p1', ${BIG}, ${from.name === 'sqlite' ? '?' : '$1'}, 'Grüße, 東京 ✓', -7, 2.5)`, [BLOB]);
          await src.exec(`insert into zz_parent (id) values ('p2')`);
          await src.exec(`insert into a_child (id, parent_id) values ('c1', 'p1')`);
          await src.exec(`insert into settings (name, value) values ('probe', 'x')`);

          const snapshot = await a.snapshot();
          const names = snapshot.tables.map((t) => t.name);
          assert.ok(names.includes('zz_parent') && names.includes('a_child') && names.includes('users'), names.join(','));
          assert.ok(!names.some((n) => n.startsWith('kysely_migration')));
          assert.deepEqual(snapshot.tables.map((t) => t.name), (await a.tables()).map((t) => t.name));
          assert.ok(names.indexOf('zz_parent') < names.indexOf('a_child'), 'parents before children');

          // JSON round trip: what the backup file carries.
          const written = await b.restoreSnapshot(JSON.parse(JSON.stringify(snapshot)), { replace: false });
          assert.equal(written, 4);
          const cast = to.name === 'sqlite' ? 'cast(big as text)' : 'big::text';
          const [p1] = await dst.exec(`select ${cast} as big, data, note, n, r from zz_parent where id = 'p1'`);
          assert.equal(String(p1!.big), BIG);
          assert.deepEqual(Buffer.from(p1!.data as Uint8Array), BLOB);
          assert.equal(p1!.note, 'Grüße, 東京 ✓');
          assert.equal(Number(p1!.n), -7);
          assert.equal(Number(p1!.r), 2.5);
          const [p2] = await dst.exec(`select big, data, note, n, r from zz_parent where id = 'p2'`);
          assert.deepEqual({ ...p2 }, { big: null, data: null, note: null, n: null, r: null });
          assert.equal((await dst.exec(`select parent_id from a_child`))[0]!.parent_id, 'p1');

          // A store with rows is refused, whole; replace swaps the contents in one transaction.
          await assert.rejects(b.restoreSnapshot(snapshot, { replace: false }), (err: Error & { code?: string }) => err.code === 'KH_RESTORE_STORE_NOT_EMPTY');
          await dst.exec(`insert into settings (name, value) values ('only-in-target', 'y')`);
          assert.equal(await b.restoreSnapshot(snapshot, { replace: true }), 4);
          assert.deepEqual(await dst.exec(`select name from settings where name = 'only-in-target'`), []);
          // A table the target lacks is refused before anything changes.
          const stray = { ...snapshot, tables: [...snapshot.tables, { name: 'not_here', columns: [{ name: 'x', type: 'text' as const }], rows: [['1']] }] };
          await assert.rejects(b.restoreSnapshot(stray, { replace: true }), /the backup has a table not_here/);
          assert.equal((await dst.exec(`select count(*) as n from zz_parent`))[0]!.n, to.name === 'sqlite' ? 2 : '2');
        } finally {
          await a.close();
          await b.close();
        }
      });
    }
  }
});
