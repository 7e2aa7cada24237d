// The embedded engine: better-sqlite3 in WAL mode with synchronous=FULL, so a commit is on
// disk (fsync of the WAL) before it is acknowledged — process-crash and power-loss safe
// (https://www.sqlite.org/pragma.html#pragma_synchronous).
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { UnavailableError } from '../errors.js';
import type { Database } from './database.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import type { EngineHandle } from './storage.js';

export function openSqlite(path: string): EngineHandle {
  let sqlite: BetterSqlite3.Database;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file 0600 before SQLite does (with the umask's 0644); its -wal and -shm
      // files take the database file's permissions.
      closeSync(openSync(path, 'a', 0o600));
    }
    sqlite = new BetterSqlite3(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // Another process (`keyhaven admin …`) may hold the write lock for a moment.
    sqlite.pragma('busy_timeout = 5000');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new UnavailableError('KH_STORAGE_UNAVAILABLE', `cannot open SQLite database ${path}: ${code}`, { cause: err });
  }
  return {
    engine: 'sqlite',
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }),
    begin: 'begin immediate',
    description: `sqlite:${path}`,
  };
}
