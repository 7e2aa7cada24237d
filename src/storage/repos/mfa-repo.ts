// The second factor's rows (0011_totp): users' TOTP methods and who must use a second factor.
import type { Kysely, Selectable } from 'kysely';
import type { Database, MfaRequirementsTable, UserTotpTable } from '../database.js';

export type UserTotpRow = Selectable<UserTotpTable>;
export type MfaRequirementRow = Selectable<MfaRequirementsTable>;

export class MfaRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async totpOf(userId: string): Promise<UserTotpRow | undefined> {
    const row = await this.db.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
    // PostgreSQL returns bigint as text.
    return row && { ...row, last_step: row.last_step === null ? null : Number(row.last_step) };
  }

  async insertTotp(row: UserTotpRow): Promise<void> {
    await this.db.insertInto('user_totp').values(row).execute();
  }

  /** Deletes the user's method (only `id` when given); true when one was deleted. */
  async deleteTotp(userId: string, id?: string): Promise<boolean> {
    let query = this.db.deleteFrom('user_totp').where('user_id', '=', userId);
    if (id !== undefined) query = query.where('id', '=', id);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** pending → active, recording the step of the confirming code; false if it was not pending any more. */
  async activateTotp(id: string, step: number, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('user_totp')
      .set({ state: 'active', activated_at: at, last_step: step })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records `step` as used if it is later than every step used before: one statement, so two
   * replicas (or two requests) presenting the same code cannot both be told "first".
   */
  async useStep(id: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('user_totp')
      .set({ last_step: step })
      .where('id', '=', id)
      .where('state', '=', 'active')
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setRequirement(principalId: string, type: 'user' | 'group', at: string): Promise<void> {
    await this.db
      .insertInto('mfa_requirements')
      .values({ principal_id: principalId, principal_type: type, created_at: at })
      .onConflict((oc) => oc.column('principal_id').doNothing())
      .execute();
  }

  async removeRequirement(principalId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('mfa_requirements').where('principal_id', '=', principalId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Which of `ids` are named by a requirement. */
  async requiredAmong(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('mfa_requirements').select('principal_id').where('principal_id', 'in', [...ids]).execute();
    return rows.map((r) => r.principal_id);
  }

  async requirements(): Promise<MfaRequirementRow[]> {
    return this.db.selectFrom('mfa_requirements').selectAll().orderBy('principal_id').execute();
  }
}
