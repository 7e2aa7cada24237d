// 0003_ldif_source: what an LDIF import keeps of where an entry came from, so that the LDAP
// view can serve imported users and groups under the DNs they had (existing bind-DN templates
// and `member` values keep working) and an export writes them back the same way.
//
//   users.source_dn, groups.source_dn        the entry's DN exactly as the LDIF gave it (NULL
//                                            for objects made in Keyhaven: the view's DN
//                                            templates apply); unique ignoring case
//   users.source_object_classes,             JSON array of the entry's objectClass values as
//   groups.source_object_classes             imported (NULL when not imported)
import { sql, type Kysely, type Migration } from 'kysely';

export const ldifSourceMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ['users', 'groups']) {
      await db.schema.alterTable(table).addColumn('source_dn', 'text').execute();
      await db.schema.alterTable(table).addColumn('source_object_classes', 'text').execute();
      await db.schema.createIndex(`${table}_source_dn_ci`).on(table).expression(sql`lower(source_dn)`).unique().execute();
    }
  },
};
