import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { versionBumped } from '../optimistic-concurrency.js';
import type { ApplicationsTable, AppCredentialsTable, Database } from '../database.js';
import { afterKeyset, compileFilter, toPage, type PageRequest, type PageResult, type RowFilter } from '../row-filter.js';

export type ApplicationRow = Selectable<ApplicationsTable>;
export type AppCredentialRow = Selectable<AppCredentialsTable>;

const FILTERABLE = new Set(['id', 'app_id', 'display_name', 'created_at']);

export class ApplicationRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byId(id: string): Promise<ApplicationRow | undefined> {
    return this.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byAppId(appId: string): Promise<ApplicationRow | undefined> {
    return this.db.selectFrom('applications').selectAll().where('app_id', '=', appId).executeTakeFirst();
  }

  async insert(row: Insertable<ApplicationsTable>): Promise<void> {
    await this.db.insertInto('applications').values(row).execute();
  }

  async list(filter: RowFilter | undefined, page: PageRequest): Promise<PageResult<ApplicationRow>> {
    let q = this.db.selectFrom('applications').selectAll();
    if (filter) q = q.where(compileFilter(filter, FILTERABLE));
    if (page.after) q = q.where(afterKeyset(page.after));
    const rows = await q.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit);
  }

  async updateVersioned(id: string, expectedVersion: number, patch: Omit<Updateable<ApplicationsTable>, 'id' | 'version' | 'app_id'>): Promise<number> {
    const result = await this.db
      .updateTable('applications')
      .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return versionBumped(result, expectedVersion);
  }

  /** Deletes the application; its credentials go with it (foreign key, on delete cascade). */
  async delete(id: string): Promise<boolean> {
    await this.db.deleteFrom('app_credentials').where('application_id', '=', id).execute();
    const result = await this.db.deleteFrom('applications').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  // Credentials -----------------------------------------------------------------------------

  async insertCredential(row: AppCredentialRow): Promise<void> {
    await this.db.insertInto('app_credentials').values(row).execute();
  }

  async credentials(applicationId: string, type?: AppCredentialRow['type']): Promise<AppCredentialRow[]> {
    let q = this.db.selectFrom('app_credentials').selectAll().where('application_id', '=', applicationId);
    if (type !== undefined) q = q.where('type', '=', type);
    return q.orderBy('start_date').orderBy('key_id').execute();
  }

  async countCredentials(applicationId: string, type: AppCredentialRow['type']): Promise<number> {
    const row = await this.db
      .selectFrom('app_credentials')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('application_id', '=', applicationId)
      .where('type', '=', type)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteCredential(applicationId: string, keyId: string, type: AppCredentialRow['type']): Promise<boolean> {
    const result = await this.db
      .deleteFrom('app_credentials')
      .where('application_id', '=', applicationId)
      .where('key_id', '=', keyId)
      .where('type', '=', type)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
