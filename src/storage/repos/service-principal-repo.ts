import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { versionBumped } from '../optimistic-concurrency.js';
import type { Database, ServicePrincipalsTable } from '../database.js';
import { afterKeyset, compileFilter, toPage, type PageRequest, type PageResult, type RowFilter } from '../row-filter.js';

export type ServicePrincipalRow = Selectable<ServicePrincipalsTable>;

const FILTERABLE = new Set(['id', 'app_id', 'display_name', 'account_enabled', 'service_principal_type', 'created_at']);

export class ServicePrincipalRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byId(id: string): Promise<ServicePrincipalRow | undefined> {
    return this.db.selectFrom('service_principals').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byAppId(appId: string): Promise<ServicePrincipalRow | undefined> {
    return this.db.selectFrom('service_principals').selectAll().where('app_id', '=', appId).executeTakeFirst();
  }

  async byIds(ids: readonly string[]): Promise<ServicePrincipalRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('service_principals').selectAll().where('id', 'in', [...ids]).execute();
  }

  async insert(row: Insertable<ServicePrincipalsTable>): Promise<void> {
    await this.db.insertInto('service_principals').values(row).execute();
  }

  async list(filter: RowFilter | undefined, page: PageRequest): Promise<PageResult<ServicePrincipalRow>> {
    let q = this.db.selectFrom('service_principals').selectAll();
    if (filter) q = q.where(compileFilter(filter, FILTERABLE));
    if (page.after) q = q.where(afterKeyset(page.after));
    const rows = await q.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit);
  }

  async updateVersioned(id: string, expectedVersion: number, patch: Omit<Updateable<ServicePrincipalsTable>, 'id' | 'version' | 'app_id'>): Promise<number> {
    const result = await this.db
      .updateTable('service_principals')
      .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return versionBumped(result, expectedVersion);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('service_principals').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
