// Kysely's SQLite driver calls `prepare` for every query it runs, and better-sqlite3 compiles
// the SQL each time. A profile of token issuance put `prepare` at 16–18% of the main thread
// (bench/README.md). Queries repeat (the same repository methods over and over), so compiled
// statements are kept and reused — safe because the driver runs one query at a time on its
// single connection. Bounded, least recently used first out: dynamic SQL (IN lists, filters)
// must not grow it without end.
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const MAX_STATEMENTS = 512;

export function withStatementCache(db: BetterSqlite3.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) {
        cache.delete(sql); // re-insert: most recently used last
        cache.set(sql, cached);
        return cached;
      }
      const statement = db.prepare(sql) as unknown as SqliteStatement;
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return statement;
    },
    close(): void {
      cache.clear();
      db.close();
    },
  };
}
