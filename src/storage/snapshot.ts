// Engine-neutral snapshots of the whole store, for `keyhaven admin backup|restore`. The tables
// are discovered from the live schema (SQLite's catalogue, PostgreSQL's information_schema),
// never listed here, so every table any migration creates is in a backup the day it is merged.
// Values are typed by their column's declared type so they survive a change of engine:
// integers as JSON numbers, bigints as decimal strings (beyond 2^53 on either side), text as
// text, blobs as base64. A snapshot is read in one read-only transaction (SQLite WAL: a read
// transaction sees one commit and never blocks the server's writes; PostgreSQL: REPEATABLE
// READ, one snapshot for every table) and written back in one transaction.
import { sql, type Kysely } from 'kysely';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { Database } from './database.js';
import type { Engine } from './storage.js';

export type ColumnType = 'integer' | 'bigint' | 'real' | 'text' | 'blob';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
  /** Tables this one has foreign keys to (restored first). */
  parents: string[];
  /** PostgreSQL: columns fed by a sequence (set past the restored maximum). */
  sequenced: string[];
}

export type CellValue = number | string | null;

export interface TableDump {
  name: string;
  columns: ColumnSchema[];
  rows: CellValue[][];
}

export interface Snapshot {
  /** Applied migrations, in order. */
  migrations: string[];
  tables: TableDump[];
}

/** Kysely's own bookkeeping: the migrations travel in `Snapshot.migrations`, the lock never. */
const BOOKKEEPING = new Set(['kysely_migration', 'kysely_migration_lock']);

type AnyDb = Kysely<Database>;

function sqliteType(declared: string): ColumnType {
  const t = declared.toUpperCase();
  // https://www.sqlite.org/datatype3.html §3.1, affinity by declared type.
  if (t.includes('INT')) return t.includes('BIGINT') ? 'bigint' : 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'real';
  return 'text';
}

function postgresType(dataType: string): ColumnType {
  switch (dataType) {
    case 'smallint':
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'bytea':
      return 'blob';
    case 'real':
    case 'double precision':
    case 'numeric':
      return 'real';
    default:
      return 'text';
  }
}

/** Every table of the store except Kysely's bookkeeping, parents before children. */
export async function listTables(db: AnyDb, engine: Engine): Promise<TableSchema[]> {
  const tables: TableSchema[] = [];
  if (engine === 'sqlite') {
    const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    for (const { name } of rows) {
      if (BOOKKEEPING.has(name)) continue;
      const cols = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${name}) order by cid`.execute(db);
      const fks = await sql<{ table: string }>`select "table" from pragma_foreign_key_list(${name})`.execute(db);
      tables.push({
        name,
        columns: cols.rows.map((c) => ({ name: c.name, type: sqliteType(c.type) })),
        parents: [...new Set(fks.rows.map((f) => f.table))],
        sequenced: [],
      });
    }
  } else {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
    const cols = await sql<{ table_name: string; column_name: string; data_type: string; column_default: string | null }>`
      select table_name, column_name, data_type, column_default from information_schema.columns
      where table_schema = current_schema() order by table_name, ordinal_position`.execute(db);
    const fks = await sql<{ child: string; parent: string }>`
      select distinct tc.table_name as child, ccu.table_name as parent
      from information_schema.table_constraints tc
      join information_schema.constraint_column_usage ccu
        on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
      where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema()`.execute(db);
    for (const { table_name: name } of rows) {
      if (BOOKKEEPING.has(name)) continue;
      const own = cols.rows.filter((c) => c.table_name === name);
      tables.push({
        name,
        columns: own.map((c) => ({ name: c.column_name, type: postgresType(c.data_type) })),
        parents: fks.rows.filter((f) => f.child === name && f.parent !== name).map((f) => f.parent),
        sequenced: own.filter((c) => c.column_default?.startsWith('nextval(')).map((c) => c.column_name),
      });
    }
  }
  return parentsFirst(tables);
}

function parentsFirst(tables: TableSchema[]): TableSchema[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: TableSchema[] = [];
  const visit = (t: TableSchema, path: Set<string>) => {
    if (done.has(t.name) || path.has(t.name)) return;
    path.add(t.name);
    for (const p of t.parents) {
      const parent = byName.get(p);
      if (parent && p !== t.name) visit(parent, path);
    }
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

function encode(value: unknown, type: ColumnType): CellValue {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  // Types outside the portable set (a PostgreSQL timestamp, boolean or jsonb) travel as the
  // text PostgreSQL accepts back for them.
  if (value instanceof Date) return value.toISOString();
  switch (type) {
    case 'bigint':
      return String(value);
    case 'integer':
    case 'real':
      return typeof value === 'bigint' ? Number(value) : (value as number | string);
    default:
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

function decode(value: CellValue, type: ColumnType, engine: Engine): unknown {
  if (value === null) return null;
  switch (type) {
    case 'bigint':
      // better-sqlite3 binds a BigInt exactly; pg sends the decimal text for int8.
      return engine === 'sqlite' ? BigInt(value) : String(value);
    case 'integer':
    case 'real':
      return typeof value === 'string' ? Number(value) : value;
    case 'blob':
      return Buffer.from(String(value), 'base64');
    default:
      return value;
  }
}

async function appliedMigrations(db: AnyDb): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

/**
 * Reads every table in one read-only transaction. `begin` is the engine's opening statement
 * for it; the whole read runs on one connection.
 */
export async function readSnapshot(db: AnyDb, engine: Engine): Promise<Snapshot> {
  return db.connection().execute(async (conn) => {
    // SQLite: a deferred transaction's first read fixes its snapshot of the WAL.
    await sql.raw(engine === 'sqlite' ? 'begin' : 'start transaction isolation level repeatable read, read only').execute(conn);
    try {
      const migrations = await appliedMigrations(conn);
      const tables: TableDump[] = [];
      for (const table of await listTables(conn, engine)) {
        // bigints as text: exact past 2^53 (the pool parses int8 into a Number, SQLite gives a Number).
        const columns = table.columns.map((c) => (c.type === 'bigint' ? sql`cast(${sql.ref(c.name)} as text) as ${sql.ref(c.name)}` : sql.ref(c.name)));
        const { rows } = await sql<Record<string, unknown>>`select ${sql.join(columns)} from ${sql.table(table.name)}`.execute(conn);
        tables.push({
          name: table.name,
          columns: table.columns,
          rows: rows.map((row) => table.columns.map((c) => encode(row[c.name], c.type))),
        });
      }
      await sql.raw('commit').execute(conn);
      return { migrations, tables };
    } catch (err) {
      await sql.raw('rollback').execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

/** Rows in the store outside Kysely's bookkeeping (0 for a store just migrated). */
export async function countRows(db: AnyDb, engine: Engine): Promise<number> {
  let total = 0;
  for (const t of await listTables(db, engine)) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t.name)}`.execute(db);
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}

export interface WriteSnapshotOptions {
  /** Delete what the store holds first, instead of refusing a store that is not empty. */
  replace: boolean;
  /** The statement that opens a write transaction on this engine. */
  begin: string;
}

const BATCH_ROWS = 200;

/**
 * Writes `snapshot` into a store migrated to the same migrations, in one transaction: every
 * table and column of the snapshot must exist here (a backup of a newer schema is refused),
 * columns the snapshot lacks take their defaults. Nothing is written if any check fails.
 */
export async function writeSnapshot(db: AnyDb, engine: Engine, snapshot: Snapshot, options: WriteSnapshotOptions): Promise<number> {
  return db.connection().execute(async (conn) => {
    await sql.raw(options.begin).execute(conn);
    try {
      const here = await appliedMigrations(conn);
      if (here.join(',') !== snapshot.migrations.join(',')) {
        throw new ConflictError('KH_RESTORE_SCHEMA_MISMATCH', `the backup's schema (${snapshot.migrations.at(-1) ?? 'none'}) differs from the store's (${here.at(-1) ?? 'none'})`);
      }
      const tables = await listTables(conn, engine);
      const byName = new Map(tables.map((t) => [t.name, t]));
      for (const dump of snapshot.tables) {
        const table = byName.get(dump.name);
        if (!table) throw new InvalidInputError('KH_RESTORE_SCHEMA_MISMATCH', `the backup has a table ${dump.name} this store's schema lacks`);
        const known = new Set(table.columns.map((c) => c.name));
        const missing = dump.columns.find((c) => !known.has(c.name));
        if (missing) throw new InvalidInputError('KH_RESTORE_SCHEMA_MISMATCH', `the backup has a column ${dump.name}.${missing.name} this store's schema lacks`);
      }
      if (!options.replace) {
        const rows = await countRows(conn, engine);
        if (rows > 0) throw new ConflictError('KH_RESTORE_STORE_NOT_EMPTY', `the store is not empty (${rows} rows): restore into a fresh home or database, or give --force to replace its contents`);
      } else {
        for (const t of [...tables].reverse()) await sql`delete from ${sql.table(t.name)}`.execute(conn);
      }
      // Parents before children, so foreign keys hold at every insert.
      const dumps = new Map(snapshot.tables.map((d) => [d.name, d]));
      let written = 0;
      for (const table of tables) {
        const dump = dumps.get(table.name);
        if (!dump || dump.rows.length === 0) continue;
        for (let i = 0; i < dump.rows.length; i += BATCH_ROWS) {
          const values = dump.rows.slice(i, i + BATCH_ROWS).map((row) => {
            const record: Record<string, unknown> = {};
            dump.columns.forEach((c, j) => (record[c.name] = decode(row[j] ?? null, c.type, engine)));
            return record;
          });
          await (conn as unknown as Kysely<Record<string, Record<string, unknown>>>).insertInto(table.name).values(values).execute();
          written += values.length;
        }
        for (const column of table.sequenced) {
          await sql`select setval(pg_get_serial_sequence(${table.name}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table.name)}), 1))`.execute(conn);
        }
      }
      await sql.raw('commit').execute(conn);
      return written;
    } catch (err) {
      await sql.raw('rollback').execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
