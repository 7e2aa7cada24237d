// A filter over table columns, and its translation to SQL. The directory's OData parser
// (directory/odata-filter.ts) maps Graph property names to columns and hands this tree to a
// repository; only here does it become SQL. Every value is a bound parameter and every column
// must be in the repository's allowlist, so no part of a client's filter text ever reaches
// the SQL text. String comparisons ignore case, as Graph's do.
import { sql, type RawBuilder, type SqlBool } from 'kysely';

export type FilterScalar = string | number | boolean | null;

export type RowFilter =
  | { kind: 'and' | 'or'; operands: RowFilter[] }
  | { kind: 'compare'; op: 'eq' | 'ne'; column: string; value: FilterScalar }
  | { kind: 'startsWith'; column: string; prefix: string }
  | { kind: 'in'; column: string; values: (string | number)[] };

/** Keyset paging in creation order: rows strictly after (createdAt, id). */
export interface PageRequest {
  limit: number;
  after?: { createdAt: string; id: string } | undefined;
}

export interface PageResult<T> {
  rows: T[];
  /** Set when more rows follow: the last row's position, to continue after. */
  next?: { createdAt: string; id: string };
}

/**
 * Compiles a filter to a boolean SQL expression. `columns` is the table's allowlist: any other
 * column name is a programming error (the parser only emits allowlisted names), so it throws.
 */
export function compileFilter(filter: RowFilter, columns: ReadonlySet<string>): RawBuilder<SqlBool> {
  const col = (name: string) => {
    if (!columns.has(name)) throw new RangeError(`column ${name} may not be filtered on`);
    return sql.ref(name);
  };
  switch (filter.kind) {
    case 'and':
    case 'or': {
      if (filter.operands.length === 0) throw new RangeError('empty boolean expression');
      const joined = sql.join(filter.operands.map((f) => compileFilter(f, columns)), sql.raw(filter.kind === 'and' ? ' and ' : ' or '));
      return sql<SqlBool>`(${joined})`;
    }
    case 'compare': {
      const ref = col(filter.column);
      const { value, op } = filter;
      if (value === null) return op === 'eq' ? sql<SqlBool>`(${ref} is null)` : sql<SqlBool>`(${ref} is not null)`;
      if (typeof value === 'string') {
        // OData: `null ne 'x'` is true, so ne keeps rows where the property is empty.
        return op === 'eq'
          ? sql<SqlBool>`(lower(${ref}) = ${value.toLowerCase()})`
          : sql<SqlBool>`(${ref} is null or lower(${ref}) <> ${value.toLowerCase()})`;
      }
      // Booleans are stored as 0/1 on both engines.
      const bound = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      return op === 'eq' ? sql<SqlBool>`(${ref} = ${bound})` : sql<SqlBool>`(${ref} is null or ${ref} <> ${bound})`;
    }
    case 'startsWith': {
      // LIKE wildcards in the prefix are escaped, so `startswith(x,'%')` matches a literal %.
      const pattern = filter.prefix.toLowerCase().replace(/[\\%_]/g, '\\$&') + '%';
      return sql<SqlBool>`(lower(${col(filter.column)}) like ${pattern} escape '\\')`;
    }
    case 'in': {
      if (filter.values.length === 0) return sql<SqlBool>`(1 = 0)`;
      const ref = col(filter.column);
      const strings = filter.values.every((v) => typeof v === 'string');
      const values = sql.join(filter.values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)));
      return strings ? sql<SqlBool>`(lower(${ref}) in (${values}))` : sql<SqlBool>`(${ref} in (${values}))`;
    }
  }
}

/** `(created_at, id) > (after.createdAt, after.id)`, spelled out for both engines. */
export function afterKeyset(after: { createdAt: string; id: string }): RawBuilder<SqlBool> {
  return sql<SqlBool>`(created_at > ${after.createdAt} or (created_at = ${after.createdAt} and id > ${after.id}))`;
}

/** Rows fetched with limit + 1: trims the extra row and says where the next page starts. */
export function toPage<T extends { created_at: string; id: string }>(rows: T[], limit: number): PageResult<T> {
  if (rows.length <= limit) return { rows };
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1]!;
  return { rows: kept, next: { createdAt: last.created_at, id: last.id } };
}
