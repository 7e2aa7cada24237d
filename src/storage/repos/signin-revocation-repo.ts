import type { Kysely } from 'kysely';
import type { Database } from '../database.js';

/** Per user: sign-ins before this time no longer count (Graph revokeSignInSessions), 0007_browser_signin. */
export class SigninRevocationRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async validFrom(userId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('signin_revocations').select('valid_from').where('user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : Number(row.valid_from);
  }

  async set(userId: string, validFrom: number): Promise<void> {
    await this.db
      .insertInto('signin_revocations')
      .values({ user_id: userId, valid_from: validFrom })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ valid_from: validFrom }))
      .execute();
  }
}
