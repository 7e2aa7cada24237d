// Imported LDAP entries that are neither users nor groups (0005_ldif_entries): the base,
// containers and bind-only accounts of an OpenLDAP or AD export. Few (a directory has a handful
// of containers), so they are read whole.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, LdapEntriesTable } from '../database.js';

export type LdapEntryRow = Selectable<LdapEntriesTable>;

export class LdapEntryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<LdapEntryRow[]> {
    return this.db.selectFrom('ldap_entries').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  /** By DN ignoring case, through the lower() unique index. */
  async byDn(dn: string): Promise<LdapEntryRow | undefined> {
    return this.db
      .selectFrom('ldap_entries')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['dn']), '=', dn.toLowerCase()))
      .executeTakeFirst();
  }

  async byId(id: string): Promise<LdapEntryRow | undefined> {
    return this.db.selectFrom('ldap_entries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byServicePrincipal(id: string): Promise<LdapEntryRow | undefined> {
    return this.db.selectFrom('ldap_entries').selectAll().where('service_principal_id', '=', id).executeTakeFirst();
  }

  async insert(row: Insertable<LdapEntriesTable>): Promise<void> {
    await this.db.insertInto('ldap_entries').values(row).execute();
  }

  /** Compare-and-set of a bind account's hash (a rehash at bind never undoes a concurrent change). */
  async replacePasswordHash(id: string, expectedHash: string, newHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('ldap_entries')
      .set({ password_hash: newHash })
      .where('id', '=', id)
      .where('password_hash', '=', expectedHash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ldap_entries').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
