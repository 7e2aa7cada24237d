// 0005_ldif_entries: what an LDIF import keeps beyond users and groups, so that imported
// entries are served as they were (issue 8, items 2, 4 and 5).
//
//   users.source_attributes,       JSON object (attribute → values, binary ones { base64 }) of
//   groups.source_attributes       the imported values of the attributes Keyhaven models itself
//                                  (cn, displayName, mail, description, …), as written: several
//                                  cn values, a displayName unlike cn. NULL when not imported.
//   ldap_entries                   every other imported entry — the base (`o: …` on an
//                                  organization), containers (`ou=people` with its description),
//                                  and bind-only accounts (`cn=reader`): its DN as written
//                                  (unique ignoring case), objectClass values and attributes as
//                                  imported; for a bind-only account the service principal it
//                                  binds as and its password hash (an imported legacy hash until
//                                  the first successful bind, then Keyhaven's own).
import { sql, type Kysely, type Migration } from 'kysely';

export const ldifEntriesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ['users', 'groups']) {
      await db.schema.alterTable(table).addColumn('source_attributes', 'text').execute();
    }
    await db.schema
      .createTable('ldap_entries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('dn', 'text', (c) => c.notNull())
      .addColumn('object_classes', 'text', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('service_principal_id', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ldap_entries_dn_ci').on('ldap_entries').expression(sql`lower(dn)`).unique().execute();
    await db.schema.createIndex('ldap_entries_service_principal').on('ldap_entries').column('service_principal_id').execute();
  },
};
