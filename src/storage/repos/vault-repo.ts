// Key Vault's rows (0013_vaults): vaults by their deployment-wide name, secrets by vault and
// lower-cased name, versions. Values are opaque ciphertext here; only src/vault decrypts.
import type { Kysely, Selectable } from 'kysely';
import type { Database, KvSecretsTable, KvSecretVersionsTable, KvVaultsTable } from '../database.js';

export type KvVaultRow = Selectable<KvVaultsTable>;
export type KvSecretRow = Selectable<KvSecretsTable>;
export type KvSecretVersionRow = Selectable<KvSecretVersionsTable>;

export class VaultRepo {
  constructor(private readonly db: Kysely<Database>) {}

  // Vaults -------------------------------------------------------------------------------

  async byName(name: string): Promise<KvVaultRow | undefined> {
    return this.db.selectFrom('kv_vaults').selectAll().where('name', '=', name.toLowerCase()).executeTakeFirst();
  }

  async insertVault(row: KvVaultRow): Promise<void> {
    await this.db.insertInto('kv_vaults').values(row).execute();
  }

  async updateVault(name: string, set: Partial<Omit<KvVaultRow, 'name' | 'id'>>): Promise<void> {
    await this.db.updateTable('kv_vaults').set(set).where('name', '=', name).execute();
  }

  /** Soft-deleted vaults of a subscription, by name. */
  async deletedVaults(subscriptionId: string): Promise<KvVaultRow[]> {
    return this.db.selectFrom('kv_vaults').selectAll().where('subscription_id', '=', subscriptionId).where('deleted_at', 'is not', null).orderBy('name').execute();
  }

  /** A vault and everything in it, for good (purge). */
  async purgeVault(name: string, vaultId: string): Promise<void> {
    await this.db.deleteFrom('kv_secret_versions').where('vault_id', '=', vaultId).execute();
    await this.db.deleteFrom('kv_secrets').where('vault_id', '=', vaultId).execute();
    await this.db.deleteFrom('kv_vaults').where('name', '=', name).execute();
  }

  // Secrets ------------------------------------------------------------------------------

  async secret(vaultId: string, nameKey: string): Promise<KvSecretRow | undefined> {
    return this.db.selectFrom('kv_secrets').selectAll().where('vault_id', '=', vaultId).where('name_key', '=', nameKey).executeTakeFirst();
  }

  async insertSecret(row: KvSecretRow): Promise<void> {
    await this.db.insertInto('kv_secrets').values(row).execute();
  }

  async updateSecret(vaultId: string, nameKey: string, set: Partial<Omit<KvSecretRow, 'vault_id' | 'name_key'>>): Promise<void> {
    await this.db.updateTable('kv_secrets').set(set).where('vault_id', '=', vaultId).where('name_key', '=', nameKey).execute();
  }

  /** Secrets of a vault in name order, after a name (keyset paging); deleted or not. */
  async secrets(vaultId: string, deleted: boolean, afterKey: string | undefined, limit: number): Promise<KvSecretRow[]> {
    let q = this.db.selectFrom('kv_secrets').selectAll().where('vault_id', '=', vaultId).where('deleted_at', deleted ? 'is not' : 'is', null);
    if (afterKey !== undefined) q = q.where('name_key', '>', afterKey);
    return q.orderBy('name_key').limit(limit).execute();
  }

  async purgeSecret(vaultId: string, nameKey: string): Promise<void> {
    await this.db.deleteFrom('kv_secret_versions').where('vault_id', '=', vaultId).where('name_key', '=', nameKey).execute();
    await this.db.deleteFrom('kv_secrets').where('vault_id', '=', vaultId).where('name_key', '=', nameKey).execute();
  }

  /** Deleted secrets whose scheduled purge date has passed (any vault). */
  async secretsDueForPurge(now: number, limit: number): Promise<KvSecretRow[]> {
    return this.db.selectFrom('kv_secrets').selectAll().where('scheduled_purge_at', '<=', now).orderBy('scheduled_purge_at').limit(limit).execute();
  }

  /** Deleted vaults whose scheduled purge date has passed. */
  async vaultsDueForPurge(nowIso: string, limit: number): Promise<KvVaultRow[]> {
    return this.db.selectFrom('kv_vaults').selectAll().where('scheduled_purge_at', '<=', nowIso).orderBy('scheduled_purge_at').limit(limit).execute();
  }

  // Versions -----------------------------------------------------------------------------

  async version(vaultId: string, nameKey: string, version: string): Promise<KvSecretVersionRow | undefined> {
    return this.db.selectFrom('kv_secret_versions').selectAll().where('vault_id', '=', vaultId).where('name_key', '=', nameKey).where('version', '=', version).executeTakeFirst();
  }

  async versions(vaultId: string, nameKey: string, afterVersion: string | undefined, limit: number): Promise<KvSecretVersionRow[]> {
    let q = this.db.selectFrom('kv_secret_versions').selectAll().where('vault_id', '=', vaultId).where('name_key', '=', nameKey);
    if (afterVersion !== undefined) q = q.where('version', '>', afterVersion);
    return q.orderBy('version').limit(limit).execute();
  }

  async insertVersion(row: KvSecretVersionRow): Promise<void> {
    await this.db.insertInto('kv_secret_versions').values(row).execute();
  }

  async updateVersion(vaultId: string, nameKey: string, version: string, set: Partial<Pick<KvSecretVersionRow, 'content_type' | 'tags' | 'enabled' | 'nbf' | 'exp' | 'updated'>>): Promise<void> {
    await this.db.updateTable('kv_secret_versions').set(set).where('vault_id', '=', vaultId).where('name_key', '=', nameKey).where('version', '=', version).execute();
  }
}
