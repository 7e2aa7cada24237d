import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { ChangeRecorder } from '../directory-changes.js';
import { versionBumped } from '../optimistic-concurrency.js';
import type { Database, UsersTable } from '../database.js';
import { afterKeyset, compileFilter, toPage, type PageRequest, type PageResult, type RowFilter } from '../row-filter.js';

export type UserRow = Selectable<UsersTable>;

/** Columns a directory filter may name. */
const FILTERABLE = new Set([
  'id', 'username', 'user_principal_name', 'display_name', 'given_name', 'surname', 'mail',
  'account_enabled', 'uid_number', 'gid_number', 'home_directory', 'login_shell', 'created_at',
]);

export class UserRepo {
  /** `changes`: inside a transaction, where the rows it writes are noted (directory-changes.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes?: ChangeRecorder,
  ) {}

  async byUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username.toLowerCase()).executeTakeFirst();
  }

  async byId(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** userPrincipalName ignoring case (Graph's rule), through the lower() index. */
  async byUpn(upn: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['user_principal_name']), '=', upn.toLowerCase()))
      .executeTakeFirst();
  }

  async byUidNumber(uidNumber: number): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('uid_number', '=', uidNumber).executeTakeFirst();
  }

  /** Users whose primary group (gidNumber) is `gidNumber`, at most `limit` of them. */
  async withPrimaryGid(gidNumber: number, limit: number): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().where('gid_number', '=', gidNumber).orderBy('username').limit(limit).execute();
  }

  /** By the DN an LDIF import gave it (ignoring case, through the lower() unique index). */
  async bySourceDn(dn: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['source_dn']), '=', dn.toLowerCase()))
      .executeTakeFirst();
  }

  async byIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('users').selectAll().where('id', 'in', [...ids]).execute();
  }

  async insert(row: Insertable<UsersTable>): Promise<void> {
    this.changes?.users.add(row.id);
    await this.db.insertInto('users').values({ ...row, username: row.username.toLowerCase() }).execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Every user in creation order, in one query: loading the read model (a keyset walk of pages costs a scan per page on SQLite). */
  async all(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  /** One page in creation order, optionally filtered. */
  async list(filter: RowFilter | undefined, page: PageRequest): Promise<PageResult<UserRow>> {
    let q = this.db.selectFrom('users').selectAll();
    if (filter) q = q.where(compileFilter(filter, FILTERABLE));
    if (page.after) q = q.where(afterKeyset(page.after));
    const rows = await q.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit);
  }

  /**
   * Optimistic concurrency: the update applies only if the row still has `expectedVersion`
   * (the etag a client read), and bumps the version; otherwise PreconditionFailedError.
   */
  async updateVersioned(id: string, expectedVersion: number, patch: Omit<Updateable<UsersTable>, 'id' | 'version'>): Promise<number> {
    this.changes?.users.add(id);
    const result = await this.db
      .updateTable('users')
      .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return versionBumped(result, expectedVersion);
  }

  /**
   * Compare-and-set of the password hash alone (a transparent rehash at sign-in): applies only
   * if the hash is still the one that was verified, so it never undoes a concurrent change.
   * Leaves the version alone: a rehash is not a change a client could have read.
   */
  async replacePasswordHash(id: string, expectedHash: string, newHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: newHash })
      .where('id', '=', id)
      .where('password_hash', '=', expectedHash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<boolean> {
    // The member rows go with it (foreign key or not): its groups' member lists change too.
    this.changes?.users.add(id);
    this.changes?.memberOf.add(id);
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** The highest uid and user gid at or above `from`, for POSIX id allocation. */
  async maxPosixId(from: number): Promise<number | null> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => [eb.fn.max('uid_number').as('u'), eb.fn.max('gid_number').as('g')])
      .where((eb) => eb.or([eb('uid_number', '>=', from), eb('gid_number', '>=', from)]))
      .executeTakeFirst();
    const values = [row?.u, row?.g].filter((v): v is number => v !== null && v !== undefined).map(Number).filter((v) => v >= from);
    return values.length === 0 ? null : Math.max(...values);
  }
}
