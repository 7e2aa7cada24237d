import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { ArmResourcesTable, Database } from '../database.js';

export type ArmResourceRow = Selectable<ArmResourcesTable>;

export interface ArmResourceQuery {
  subscriptionId: string;
  /** Lower-cased group name; undefined for the whole subscription. */
  resourceGroup?: string | undefined;
  /** Exact type (compared ignoring case), e.g. Microsoft.Resources/resourceGroups. */
  type?: string | undefined;
  /** Leave out this type (resource listings do not list groups). */
  excludeType?: string | undefined;
  name?: string | undefined;
  /** Keyset: keys after this one. */
  afterKey?: string | undefined;
  limit: number;
}

export class ArmResourceRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byKey(key: string): Promise<ArmResourceRow | undefined> {
    return this.db.selectFrom('arm_resources').selectAll().where('key', '=', key).executeTakeFirst();
  }

  async query(q: ArmResourceQuery): Promise<ArmResourceRow[]> {
    let query = this.db.selectFrom('arm_resources').selectAll().where('subscription_id', '=', q.subscriptionId);
    if (q.resourceGroup !== undefined) query = query.where('resource_group', '=', q.resourceGroup);
    if (q.type !== undefined) query = query.where((eb) => eb(eb.fn('lower', ['type']), '=', q.type!.toLowerCase()));
    if (q.excludeType !== undefined) query = query.where((eb) => eb(eb.fn('lower', ['type']), '!=', q.excludeType!.toLowerCase()));
    if (q.name !== undefined) query = query.where((eb) => eb(eb.fn('lower', ['name']), '=', q.name!.toLowerCase()));
    if (q.afterKey !== undefined) query = query.where('key', '>', q.afterKey);
    return query.orderBy('key').limit(q.limit).execute();
  }

  async insert(row: ArmResourceRow): Promise<void> {
    await this.db.insertInto('arm_resources').values(row).execute();
  }

  /** Replaces a resource's content if its etag is still `expectedEtag`; false if it changed meanwhile. */
  async replace(row: ArmResourceRow, expectedEtag: string): Promise<boolean> {
    const { key, ...rest } = row;
    const result = await this.db.updateTable('arm_resources').set(rest).where('key', '=', key).where('etag', '=', expectedEtag).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.db.deleteFrom('arm_resources').where('key', '=', key).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Every resource below a resource id (`prefix` is a lower-cased key; `prefix/…` rows go). */
  async deleteBelow(prefix: string): Promise<number> {
    const result = await this.db.deleteFrom('arm_resources').where(below('key', prefix)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async keysBelow(prefix: string): Promise<string[]> {
    const rows = await this.db.selectFrom('arm_resources').select('key').where(below('key', prefix)).execute();
    return rows.map((r) => r.key);
  }
}

/** LIKE with no wildcard but ours: resource ids hold `_` (and `%` never passes validation). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `column LIKE 'prefix/%'` with the escape character named (SQLite has no default one). */
export function below(column: 'key' | 'scope_key', prefix: string) {
  return sql<SqlBool>`${sql.ref(column)} like ${`${escapeLike(prefix)}/%`} escape '\\'`;
}
