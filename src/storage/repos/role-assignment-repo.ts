import type { Kysely, Selectable } from 'kysely';
import type { Database, DirectoryRoleAssignmentsTable } from '../database.js';

export type RoleAssignmentRow = Selectable<DirectoryRoleAssignmentsTable>;

export interface RoleAssignmentQuery {
  principalId?: string | undefined;
  roleDefinitionId?: string | undefined;
  directoryScopeId?: string | undefined;
  afterId?: string | undefined;
  limit: number;
}

export class RoleAssignmentRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byId(id: string): Promise<RoleAssignmentRow | undefined> {
    return this.db.selectFrom('directory_role_assignments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async find(roleDefinitionId: string, principalId: string, directoryScopeId: string): Promise<RoleAssignmentRow | undefined> {
    return this.db
      .selectFrom('directory_role_assignments')
      .selectAll()
      .where('role_definition_id', '=', roleDefinitionId)
      .where('principal_id', '=', principalId)
      .where('directory_scope_id', '=', directoryScopeId)
      .executeTakeFirst();
  }

  /** All assignments a principal holds (one indexed lookup: every authorization check). */
  async ofPrincipal(principalId: string): Promise<RoleAssignmentRow[]> {
    return this.db.selectFrom('directory_role_assignments').selectAll().where('principal_id', '=', principalId).execute();
  }

  async query(q: RoleAssignmentQuery): Promise<RoleAssignmentRow[]> {
    let query = this.db.selectFrom('directory_role_assignments').selectAll();
    if (q.principalId !== undefined) query = query.where('principal_id', '=', q.principalId);
    if (q.roleDefinitionId !== undefined) query = query.where('role_definition_id', '=', q.roleDefinitionId);
    if (q.directoryScopeId !== undefined) query = query.where('directory_scope_id', '=', q.directoryScopeId);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    return query.orderBy('id').limit(q.limit).execute();
  }

  async insert(row: RoleAssignmentRow): Promise<void> {
    await this.db.insertInto('directory_role_assignments').values(row).execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('directory_role_assignments').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Removes every assignment of a principal, or scoped to an object (either is being deleted). */
  async deleteFor(objectId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('directory_role_assignments')
      .where((eb) => eb.or([eb('principal_id', '=', objectId), eb('directory_scope_id', '=', `/${objectId}`)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** How many assignments of `roleDefinitionId` at `/` belong to enabled users (the last Global Administrator guard). */
  async countEnabledUserHolders(roleDefinitionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('directory_role_assignments as a')
      .innerJoin('users as u', 'u.id', 'a.principal_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('a.role_definition_id', '=', roleDefinitionId)
      .where('a.directory_scope_id', '=', '/')
      .where('u.account_enabled', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
