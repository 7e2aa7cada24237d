// 0002_directory: the directory core — users grow Graph and POSIX attributes; groups with
// nested membership; applications, their credentials and service principals; Entra-style
// directory role assignments. Portable types only, as in 0001 (text, integer; booleans 0/1;
// times ISO-8601 text; JSON as text). Case-insensitive uniqueness is an index on lower(…),
// which both engines support (SQLite since 3.9: indexes on expressions).
import { sql, type Kysely, type Migration } from 'kysely';

/** The first POSIX id handed out, for users that exist before this migration (the bootstrap admin). */
const BACKFILL_FIRST_ID = 10000;

export const directoryMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // SQLite's ALTER TABLE ADD COLUMN takes no UNIQUE: uniqueness comes from indexes below.
    const userColumns: [string, 'text' | 'integer'][] = [
      ['given_name', 'text'],
      ['surname', 'text'],
      ['mail', 'text'],
      ['uid_number', 'integer'],
      ['gid_number', 'integer'],
      ['home_directory', 'text'],
      ['login_shell', 'text'],
      ['password_changed_at', 'text'],
    ];
    for (const [name, type] of userColumns) {
      await db.schema.alterTable('users').addColumn(name, type).execute();
    }
    await db.schema.alterTable('users').addColumn('ssh_public_keys', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    await db.schema.alterTable('users').addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}')).execute();
    await db.schema.createIndex('users_uid_number').on('users').column('uid_number').unique().execute();
    // Graph treats userPrincipalName as case-insensitive.
    await db.schema.createIndex('users_upn_ci').on('users').expression(sql`lower(user_principal_name)`).unique().execute();
    await db.schema.createIndex('users_created').on('users').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('mail_nickname', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('gid_number', 'integer')
      .addColumn('security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('groups_nickname_ci').on('groups').expression(sql`lower(mail_nickname)`).unique().execute();
    await db.schema.createIndex('groups_gid_number').on('groups').column('gid_number').unique().execute();
    await db.schema.createIndex('groups_created').on('groups').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('member_type', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'member_id'])
      .execute();
    // memberOf and the upward recursive walk look members up by id.
    await db.schema.createIndex('group_members_member').on('group_members').columns(['member_id', 'group_id']).execute();

    await db.schema
      .createTable('applications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('applications_created').on('applications').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('app_credentials')
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('hint', 'text')
      .addColumn('secret_digest', 'text')
      .addColumn('cert_der_b64', 'text')
      .addColumn('thumbprint_sha1', 'text')
      .addColumn('thumbprint_sha256', 'text')
      .addColumn('start_date', 'text', (c) => c.notNull())
      .addColumn('end_date', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('app_credentials_app').on('app_credentials').columns(['application_id', 'type']).execute();

    await db.schema
      .createTable('service_principals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('account_enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('service_principal_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('service_principals_created').on('service_principals').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('directory_role_assignments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('role_definition_id', 'text', (c) => c.notNull())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('directory_scope_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('directory_role_assignments_unique', ['role_definition_id', 'principal_id', 'directory_scope_id'])
      .execute();
    await db.schema.createIndex('directory_role_assignments_principal').on('directory_role_assignments').column('principal_id').execute();

    // Users made before this migration (the bootstrap admin) get POSIX ids now, in creation
    // order, with a user private group (gid = uid) as FreeIPA and most distributions do.
    const { rows } = await sql<{ id: string; username: string }>`select id, username from users order by created_at, id`.execute(db);
    let next = BACKFILL_FIRST_ID;
    for (const row of rows) {
      await sql`update users set uid_number = ${next}, gid_number = ${next}, home_directory = ${`/home/${row.username}`}, login_shell = ${'/bin/bash'} where id = ${row.id}`.execute(db);
      next++;
    }
  },
};
