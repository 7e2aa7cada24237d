import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { ChangeRecorder } from '../directory-changes.js';
import { versionBumped } from '../optimistic-concurrency.js';
import type { Database, GroupsTable } from '../database.js';
import { afterKeyset, compileFilter, toPage, type PageRequest, type PageResult, type RowFilter } from '../row-filter.js';

export type GroupRow = Selectable<GroupsTable>;

const FILTERABLE = new Set(['id', 'display_name', 'mail_nickname', 'description', 'gid_number', 'security_enabled', 'created_at']);

export class GroupRepo {
  /** `changes`: inside a transaction, where the rows it writes are noted (directory-changes.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes?: ChangeRecorder,
  ) {}

  async byId(id: string): Promise<GroupRow | undefined> {
    return this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** mailNickname ignoring case, through the lower() unique index. */
  async byMailNickname(name: string): Promise<GroupRow | undefined> {
    return this.db
      .selectFrom('groups')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['mail_nickname']), '=', name.toLowerCase()))
      .executeTakeFirst();
  }

  async byGidNumber(gidNumber: number): Promise<GroupRow | undefined> {
    return this.db.selectFrom('groups').selectAll().where('gid_number', '=', gidNumber).executeTakeFirst();
  }

  /** By the DN an LDIF import gave it (ignoring case, through the lower() unique index). */
  async bySourceDn(dn: string): Promise<GroupRow | undefined> {
    return this.db
      .selectFrom('groups')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['source_dn']), '=', dn.toLowerCase()))
      .executeTakeFirst();
  }

  async byIds(ids: readonly string[]): Promise<GroupRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('groups').selectAll().where('id', 'in', [...ids]).execute();
  }

  async insert(row: Insertable<GroupsTable>): Promise<void> {
    this.changes?.groups.add(row.id);
    await this.db.insertInto('groups').values(row).execute();
  }

  /** Every group in creation order, in one query: loading the read model. */
  async all(): Promise<GroupRow[]> {
    return this.db.selectFrom('groups').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async list(filter: RowFilter | undefined, page: PageRequest): Promise<PageResult<GroupRow>> {
    let q = this.db.selectFrom('groups').selectAll();
    if (filter) q = q.where(compileFilter(filter, FILTERABLE));
    if (page.after) q = q.where(afterKeyset(page.after));
    const rows = await q.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit);
  }

  async updateVersioned(id: string, expectedVersion: number, patch: Omit<Updateable<GroupsTable>, 'id' | 'version'>): Promise<number> {
    this.changes?.groups.add(id);
    const result = await this.db
      .updateTable('groups')
      .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return versionBumped(result, expectedVersion);
  }

  /** Deletes the group and its member rows (the foreign key would cascade too; this does not rely on it). */
  async delete(id: string): Promise<boolean> {
    this.changes?.groups.add(id);
    this.changes?.members.add(id);
    this.changes?.memberOf.add(id);
    await this.db.deleteFrom('group_members').where('group_id', '=', id).execute();
    const result = await this.db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async maxGidNumber(from: number): Promise<number | null> {
    const row = await this.db
      .selectFrom('groups')
      .select((eb) => eb.fn.max('gid_number').as('g'))
      .where('gid_number', '>=', from)
      .executeTakeFirst();
    return row?.g === null || row?.g === undefined ? null : Number(row.g);
  }
}
