import type { Kysely } from 'kysely';
import type { Database } from '../database.js';

export class AssertionJtiRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records (client, jti) until `expiresAt` (epoch ms); true when it was not live already. One
   * statement — insert, or take over a dead row — so two replicas racing with one assertion
   * cannot both be told "first".
   */
  async useOnce(clientId: string, jti: string, expiresAt: number, now: number, source: string): Promise<boolean> {
    const result = await this.db
      .insertInto('assertion_jti')
      .values({ client_id: clientId, jti, expires_at: expiresAt, source })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doUpdateSet({ expires_at: expiresAt, source }).where('assertion_jti.expires_at', '<=', now))
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** The source of a live (client, jti)'s first use, or undefined when none is live. */
  async firstSource(clientId: string, jti: string, now: number): Promise<string | undefined> {
    const row = await this.db.selectFrom('assertion_jti').select('source').where('client_id', '=', clientId).where('jti', '=', jti).where('expires_at', '>', now).executeTakeFirst();
    return row?.source;
  }

  /** Removes up to `limit` dead rows. */
  async sweep(now: number, limit: number): Promise<number> {
    const dead = this.db.selectFrom('assertion_jti').select('jti').where('expires_at', '<=', now).limit(limit);
    const result = await this.db.deleteFrom('assertion_jti').where('expires_at', '<=', now).where('jti', 'in', dead).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
