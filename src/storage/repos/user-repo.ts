import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { PreconditionFailedError } from '../../errors.js';
import type { Database, UsersTable } from '../database.js';

export type UserRow = Selectable<UsersTable>;

export class UserRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username.toLowerCase()).executeTakeFirst();
  }

  async byId(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: Insertable<UsersTable>): Promise<void> {
    await this.db.insertInto('users').values({ ...row, username: row.username.toLowerCase() }).execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Optimistic concurrency: the update applies only if the row still has `expectedVersion`
   * (the etag a client read), and bumps the version; otherwise PreconditionFailedError.
   */
  async updateVersioned(id: string, expectedVersion: number, patch: Omit<Updateable<UsersTable>, 'id' | 'version'>): Promise<number> {
    const result = await this.db
      .updateTable('users')
      .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new PreconditionFailedError('KH_VERSION_MISMATCH', 'the resource was changed by another request; read it again and retry');
    }
    return expectedVersion + 1;
  }
}
