// Custom role definitions and role assignments (0009_resources). Every write notes an
// authorization change (directory-changes.ts), so this process's authorization index reloads
// after the commit and other replicas hear of it through PostgreSQL's NOTIFY.
import type { Kysely, Selectable } from 'kysely';
import type { ArmRoleAssignmentsTable, ArmRoleDefinitionsTable, Database } from '../database.js';
import type { ChangeRecorder } from '../directory-changes.js';
import { below } from './arm-resource-repo.js';

export type ArmRoleDefinitionRow = Selectable<ArmRoleDefinitionsTable>;
export type ArmRoleAssignmentRow = Selectable<ArmRoleAssignmentsTable>;

export class ArmRbacRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes?: ChangeRecorder,
  ) {}

  #changed(): void {
    if (this.changes) this.changes.authorization = true;
  }

  async allDefinitions(): Promise<ArmRoleDefinitionRow[]> {
    return this.db.selectFrom('arm_role_definitions').selectAll().orderBy('id').execute();
  }

  async definition(id: string): Promise<ArmRoleDefinitionRow | undefined> {
    return this.db.selectFrom('arm_role_definitions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async putDefinition(row: ArmRoleDefinitionRow): Promise<void> {
    this.#changed();
    const { id, ...rest } = row;
    const result = await this.db.updateTable('arm_role_definitions').set(rest).where('id', '=', id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) await this.db.insertInto('arm_role_definitions').values(row).execute();
  }

  async deleteDefinition(id: string): Promise<boolean> {
    this.#changed();
    const result = await this.db.deleteFrom('arm_role_definitions').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async allAssignments(): Promise<ArmRoleAssignmentRow[]> {
    return this.db.selectFrom('arm_role_assignments').selectAll().orderBy('id').execute();
  }

  async assignment(id: string): Promise<ArmRoleAssignmentRow | undefined> {
    return this.db.selectFrom('arm_role_assignments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findAssignment(scopeKey: string, roleDefinitionId: string, principalId: string): Promise<ArmRoleAssignmentRow | undefined> {
    return this.db
      .selectFrom('arm_role_assignments')
      .selectAll()
      .where('scope_key', '=', scopeKey)
      .where('role_definition_id', '=', roleDefinitionId)
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
  }

  async countAssignmentsOfDefinition(roleDefinitionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('arm_role_assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role_definition_id', '=', roleDefinitionId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertAssignment(row: ArmRoleAssignmentRow): Promise<void> {
    this.#changed();
    await this.db.insertInto('arm_role_assignments').values(row).execute();
  }

  async deleteAssignment(id: string): Promise<boolean> {
    this.#changed();
    const result = await this.db.deleteFrom('arm_role_assignments').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Assignments at a scope or below it (its resource was deleted); `scopeKey` lower-cased. */
  async deleteAssignmentsAtOrBelow(scopeKey: string): Promise<number> {
    this.#changed();
    const result = await this.db
      .deleteFrom('arm_role_assignments')
      .where((eb) => eb.or([eb('scope_key', '=', scopeKey), below('scope_key', scopeKey)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Assignments held by a principal that no longer exists. */
  async deleteAssignmentsOf(principalId: string): Promise<number> {
    this.#changed();
    const result = await this.db.deleteFrom('arm_role_assignments').where('principal_id', '=', principalId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
