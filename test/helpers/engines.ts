// The storage engines every conformance and crash test runs on: SQLite in a temp directory
// and PostgreSQL in a fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createTestDatabase, withPgClient } from './postgres.js';

export interface EngineFixture {
  name: 'sqlite' | 'postgres';
  url: string;
  /** Runs raw SQL outside Keyhaven (the test's hand on the database). */
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export type EngineFactory = { name: 'sqlite' | 'postgres'; create(): Promise<EngineFixture> };

export const engines: EngineFactory[] = [
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'kh-sqlite-'));
      const path = join(dir, 'keyhaven.db');
      return {
        name: 'sqlite',
        url: `sqlite:${path}`,
        async exec(sql, params = []) {
          const db = new BetterSqlite3(path);
          try {
            db.pragma('busy_timeout = 5000');
            const stmt = db.prepare(sql);
            return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
          } finally {
            db.close();
          }
        },
        async cleanup() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      const db = await createTestDatabase();
      return {
        name: 'postgres',
        url: db.url,
        exec: (sql, params = []) => withPgClient(db.url, async (c) => (await c.query(sql, params)).rows),
        cleanup: () => db.drop(),
      };
    },
  },
];

/** SQL that makes every insert into audit_records fail, on either engine (a failing audit store). */
export function failAuditInsertsSql(engine: 'sqlite' | 'postgres'): string[] {
  return engine === 'sqlite'
    ? [`create trigger kh_test_fail_audit before insert on audit_records begin select raise(abort, 'audit store down'); end`]
    : [
        `create function kh_test_fail_audit() returns trigger language plpgsql as $$ begin raise exception 'audit store down'; end $$`,
        `create trigger kh_test_fail_audit before insert on audit_records for each row execute function kh_test_fail_audit()`,
      ];
}
