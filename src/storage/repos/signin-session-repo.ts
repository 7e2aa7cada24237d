import type { Kysely, Selectable } from 'kysely';
import type { Database, SigninSessionsTable } from '../database.js';

export type SigninSessionRow = Selectable<SigninSessionsTable>;

/** Single-sign-on sessions, by the SHA-256 of the cookie's id (0007_browser_signin). */
export class SigninSessionRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: SigninSessionRow): Promise<void> {
    await this.db.insertInto('signin_sessions').values(row).execute();
  }

  async live(idHash: string, now: number): Promise<SigninSessionRow | undefined> {
    return this.db.selectFrom('signin_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('signin_sessions').where('id_hash', '=', idHash).execute();
  }

  async sweep(now: number): Promise<void> {
    await this.db.deleteFrom('signin_sessions').where('expires_at', '<=', now).execute();
  }
}
