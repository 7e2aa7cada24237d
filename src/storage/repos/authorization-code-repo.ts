import type { Kysely, Selectable } from 'kysely';
import type { AuthorizationCodesTable, Database } from '../database.js';

export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;

/** Authorization codes (RFC 6749 §4.1.2), by their SHA-256 (0007_browser_signin). */
export class AuthorizationCodeRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AuthorizationCodeRow): Promise<void> {
    await this.db.insertInto('authorization_codes').values(row).execute();
  }

  async byHash(codeHash: string): Promise<AuthorizationCodeRow | undefined> {
    return this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  }

  /**
   * Marks the code used if it is unused and live, in one statement: of two redemptions racing
   * (on one replica or two), exactly one is told it won.
   */
  async redeem(codeHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('authorization_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Drops codes dead for a day: replays of older ones are plain unknown codes. */
  async sweep(before: number): Promise<void> {
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<=', before).execute();
  }
}
