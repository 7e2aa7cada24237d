// 0013_vaults: Key Vault's data plane. A vault's ARM envelope (properties, access policies)
// lives in arm_resources like every resource; `kv_vaults` adds what only vaults have: the
// deployment-wide unique name (a DNS label, as Azure's vault names are globally unique), the
// id that names its data key and binds its ciphertexts, and the soft-deleted state (a deleted
// vault keeps its secrets until purged). Secrets: one `kv_secrets` row per name (case-
// insensitive, as Key Vault's are; soft-delete state, latest version) and one
// `kv_secret_versions` row per version, whose value is only ever AES-256-GCM ciphertext under
// the vault's data key with vault, name and version as associated data.
import type { Kysely, Migration } from 'kysely';

export const vaultsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('kv_vaults')
      // Lower-cased vault name.
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      // The ARM resource's lower-cased id (arm_resources.key) and its spelling.
      .addColumn('resource_key', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text', (c) => c.notNull())
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      // Soft delete: when, when it is purged, and the resource as it was (for deletedVaults and recovery).
      .addColumn('deleted_at', 'text')
      .addColumn('scheduled_purge_at', 'text')
      .addColumn('deleted_resource', 'text')
      .execute();
    await db.schema.createIndex('kv_vaults_resource').on('kv_vaults').column('resource_key').execute();
    await db.schema
      .createTable('kv_secrets')
      .addColumn('vault_id', 'text', (c) => c.notNull())
      // Lower-cased secret name, and the spelling it was created with.
      .addColumn('name_key', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('latest_version', 'text', (c) => c.notNull())
      // Unix seconds; null while the secret is not deleted.
      .addColumn('deleted_at', 'bigint')
      .addColumn('scheduled_purge_at', 'bigint')
      .addPrimaryKeyConstraint('kv_secrets_pk', ['vault_id', 'name_key'])
      .execute();
    await db.schema.createIndex('kv_secrets_purge').on('kv_secrets').column('scheduled_purge_at').execute();
    await db.schema
      .createTable('kv_secret_versions')
      .addColumn('vault_id', 'text', (c) => c.notNull())
      .addColumn('name_key', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text')
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('nbf', 'bigint')
      .addColumn('exp', 'bigint')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('kv_secret_versions_pk', ['vault_id', 'name_key', 'version'])
      .execute();
  },
};
