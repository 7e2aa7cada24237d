// Versioned schema migrations, applied at start by Kysely's Migrator, which records each in
// `kysely_migration` and serialises concurrent replicas through `kysely_migration_lock`.
// Never edit a released migration: add a new one.
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { directoryMigration } from './migration-0002-directory.js';
import { ldifSourceMigration } from './migration-0003-ldif-source.js';
import { loginThrottleMigration } from './migration-0004-login-throttle.js';
import { ldifEntriesMigration } from './migration-0005-ldif-entries.js';
import { assertionJtiMigration } from './migration-0006-assertion-jti.js';
import { totpMigration } from './migration-0011-totp.js';
import { browserSigninMigration } from './migration-0007-browser-signin.js';
import { signingKeysMigration } from './migration-0008-signing-keys.js';
import { resourcesMigration } from './migration-0009-resources.js';
import { vaultsMigration } from './migration-0013-vaults.js';
import { machinesMigration } from './migration-0014-machines.js';

const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('data_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('wrapped', 'text', (c) => c.notNull())
        .addColumn('kek_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('data_keys_purpose').on('data_keys').column('purpose').execute();
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_records')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('correlation_id', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('mac', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_records_time').on('audit_records').column('time').execute();
      await db.schema.createIndex('audit_records_actor').on('audit_records').columns(['actor', 'seq']).execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('mac', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('user_principal_name', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('account_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
    },
  },
  '0002_directory': directoryMigration,
  '0003_ldif_source': ldifSourceMigration,
  '0004_login_throttle': loginThrottleMigration,
  '0005_ldif_entries': ldifEntriesMigration,
  '0006_assertion_jti': assertionJtiMigration,
  '0011_totp': totpMigration,
  '0007_browser_signin': browserSigninMigration,
  '0008_signing_keys': signingKeysMigration,
  '0009_resources': resourcesMigration,
  '0013_vaults': vaultsMigration,
  '0014_machines': machinesMigration,
};

/** The migrations this version has, in the order Kysely applies them (by name). */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
