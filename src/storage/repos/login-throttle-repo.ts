import type { Kysely } from 'kysely';
import type { Database } from '../database.js';

export class LoginThrottleRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: 'sqlite' | 'postgres',
  ) {}

  async get(key: string, now: number): Promise<string | undefined> {
    const row = await this.db.selectFrom('login_throttle').select('entry').where('key', '=', key).where('expires_at', '>', now).executeTakeFirst();
    return row?.entry || undefined;
  }

  /**
   * Inside a transaction: makes sure the key's row exists, then locks and reads it (PostgreSQL
   * `FOR UPDATE`; SQLite's BEGIN IMMEDIATE already holds the write lock). A missing row cannot
   * be locked, hence the placeholder insert first. Returns the live entry's JSON, if any.
   */
  async lock(key: string, now: number): Promise<string | undefined> {
    await this.db.insertInto('login_throttle').values({ key, entry: '', expires_at: 0 }).onConflict((oc) => oc.column('key').doNothing()).execute();
    let q = this.db.selectFrom('login_throttle').select(['entry', 'expires_at']).where('key', '=', key);
    if (this.engine === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.expires_at) > now && row.entry !== '' ? row.entry : undefined;
  }

  async put(key: string, entry: string, expiresAt: number): Promise<void> {
    await this.db.updateTable('login_throttle').set({ entry, expires_at: expiresAt }).where('key', '=', key).execute();
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }

  /** Removes up to `limit` dead rows. */
  async sweep(now: number, limit: number): Promise<number> {
    const dead = this.db.selectFrom('login_throttle').select('key').where('expires_at', '<=', now).limit(limit);
    const result = await this.db.deleteFrom('login_throttle').where('key', 'in', dead).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
