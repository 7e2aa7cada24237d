// PostgreSQL, for many stateless replicas sharing one database. Commits are durable per
// PostgreSQL's own fsync/synchronous_commit settings (on by default).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { UnavailableError } from '../errors.js';
import type { Database } from './database.js';
import type { EngineHandle } from './storage.js';

// bigint (int8) columns hold audit sequence numbers and counts: well inside 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** The URL without its password, for logs and messages. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openPostgres(url: string, poolSize: number): Promise<EngineHandle> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 10_000 });
  // An idle client's error (server restart) must not crash the process; the next query
  // on a fresh client reports it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    const code = (err as { code?: string }).code ?? 'error';
    throw new UnavailableError('KH_STORAGE_UNAVAILABLE', `cannot connect to ${describePostgresUrl(url)}: ${code}`, { cause: err });
  }
  return {
    engine: 'postgres',
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    begin: 'begin',
    description: describePostgresUrl(url),
    url,
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
