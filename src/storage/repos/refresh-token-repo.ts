import type { Kysely, Selectable } from 'kysely';
import type { Database, RefreshFamiliesTable, RefreshTokensTable } from '../database.js';

export type RefreshFamilyRow = Selectable<RefreshFamiliesTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;

/** Refresh token families and their members, by SHA-256 (0007_browser_signin). */
export class RefreshTokenRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insertFamily(row: RefreshFamilyRow): Promise<void> {
    await this.db.insertInto('refresh_families').values(row).execute();
  }

  async family(id: string): Promise<RefreshFamilyRow | undefined> {
    return this.db.selectFrom('refresh_families').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertToken(row: RefreshTokenRow): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(row).execute();
  }

  async token(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Marks the token used if unused and live; true for the one caller that rotated it. */
  async use(tokenHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeFamily(id: string, now: number, reason: string): Promise<void> {
    await this.db.updateTable('refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async revokeUser(userId: string, now: number, reason: string): Promise<number> {
    const result = await this.db.updateTable('refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
