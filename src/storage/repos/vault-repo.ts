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

  /** A live vault and its ARM resource's properties, in one statement (the data plane's hot path). */
  async liveVault(name: string): Promise<(KvVaultRow & { type: string; properties: string }) | undefined> {
    return this.db
      .selectFrom('kv_vaults')
      .innerJoin('arm_resources', 'arm_resources.key', 'kv_vaults.resource_key')
      .selectAll('kv_vaults')
      .select(['arm_resources.type', 'arm_resources.properties'])
      .where('kv_vaults.name', '=', name.toLowerCase())
      .where('kv_vaults.deleted_at', 'is', null)
      .executeTakeFirst();
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

  /** A secret and one version (the latest when `version` is undefined), in one statement. */
  async secretVersion(vaultId: string, nameKey: string, version: string | undefined): Promise<{ secret: KvSecretRow; row: KvSecretVersionRow | undefined } | undefined> {
    const r = await this.db
      .selectFrom('kv_secrets as s')
      .leftJoin('kv_secret_versions as v', (join) =>
        join.onRef('v.vault_id', '=', 's.vault_id').onRef('v.name_key', '=', 's.name_key').on((eb) => (version === undefined ? eb('v.version', '=', eb.ref('s.latest_version')) : eb('v.version', '=', version))))
      .select(['s.vault_id', 's.name_key', 's.name', 's.latest_version', 's.deleted_at', 's.scheduled_purge_at'])
      .select(['v.version', 'v.ciphertext', 'v.content_type', 'v.tags', 'v.enabled', 'v.nbf', 'v.exp', 'v.created', 'v.updated'])
      .where('s.vault_id', '=', vaultId)
      .where('s.name_key', '=', nameKey)
      .executeTakeFirst();
    if (!r) return undefined;
    const secret: KvSecretRow = { vault_id: r.vault_id, name_key: r.name_key, name: r.name, latest_version: r.latest_version, deleted_at: r.deleted_at, scheduled_purge_at: r.scheduled_purge_at };
    const row: KvSecretVersionRow | undefined = r.version === null || r.ciphertext === null
      ? undefined
      : { vault_id: r.vault_id, name_key: r.name_key, version: r.version, ciphertext: r.ciphertext, content_type: r.content_type, tags: r.tags!, enabled: r.enabled!, nbf: r.nbf, exp: r.exp, created: r.created!, updated: r.updated! };
    return { secret, row };
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
