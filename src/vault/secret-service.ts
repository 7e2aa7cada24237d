// The vault data plane's core: secrets, their versions, soft delete, backup and restore, each
// call a pipeline of authorize (vault-access.ts) → act → audit. Values are SecretValues in
// memory and AES-256-GCM ciphertext at rest, under the vault's own data key (envelope purpose
// `vault/{vaultId}`, wrapped by the KEK) with associated data binding vault, name and version,
// so a ciphertext moved to another row fails to decrypt. Every read of a value writes its
// audit record (who, vault/name/version, from where), and the value is handed back only once
// that record is durable; writes commit with their audit record. Values never reach an audit
// record, a log or an error message.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Envelope } from '../crypto/envelope.js';
import { SecretValue } from '../crypto/secret-value.js';
import { ConflictError, ForbiddenError, InvalidInputError, KeyhavenError, NotFoundError } from '../errors.js';
import { VAULT_TYPE, vaultProperties, type VaultProperties } from '../resources/providers/key-vault.js';
import type { StoredResource } from '../resources/resource-types.js';
import type { KvSecretRow, KvSecretVersionRow, KvVaultRow } from '../storage/repos/vault-repo.js';
import { isUniqueViolation, type Storage, type Tx } from '../storage/storage.js';
import { VaultAccess, type SecretOperation, type VaultCaller } from './vault-access.js';
import { echo } from './vault-names.js';

/** Azure's limit on a secret's value ("Azure Key Vault service limits"): 25 KB. */
export const MAX_SECRET_VALUE_BYTES = 25 * 1024;
const BACKUP_PURPOSE = 'vault-backup';
const BACKUP_CONTEXT = 'kv-secret-backup/v1';

export interface OpenVault {
  name: string;
  id: string;
  resourceId: string;
  location: string;
  props: VaultProperties;
}

export interface SecretAttributesInput {
  enabled?: boolean | undefined;
  nbf?: number | null | undefined;
  exp?: number | null | undefined;
}

export interface SetSecretInput {
  value: SecretValue;
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  attributes?: SecretAttributesInput | undefined;
}

export interface UpdateSecretInput {
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  attributes?: SecretAttributesInput | undefined;
}

/** One version's metadata, and its value when the call reads it. */
export interface SecretVersion {
  name: string;
  version: string;
  contentType: string | null;
  tags: Record<string, string>;
  enabled: boolean;
  nbf: number | null;
  exp: number | null;
  created: number;
  updated: number;
  value?: SecretValue;
}

export interface DeletedSecret extends SecretVersion {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface Page<T> {
  items: T[];
  /** The last name or version of this page, when more follow. */
  next?: string;
}

export interface SecretServiceDeps {
  storage: Storage;
  envelope: Envelope;
  audit: AuditLog;
  access: VaultAccess;
  /** Unix seconds now (tests may inject a clock). */
  now?: () => number;
}

const aad = (vaultId: string, nameKey: string, version: string) => `kv-secret/v1|vault=${vaultId}|name=${nameKey}|version=${version}`;
const purpose = (vaultId: string) => `vault/${vaultId}`;

function secretNotFound(vault: string, name: string, version?: string): NotFoundError {
  return new NotFoundError('KH_VAULT_SECRET_NOT_FOUND', version
    ? `A secret with (name/id) ${echo(name)}/${echo(version)} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`
    : `A secret with (name/id) ${echo(name)} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`);
}

function deletedNotFound(name: string): NotFoundError {
  return new NotFoundError('KH_VAULT_DELETED_SECRET_NOT_FOUND', `Deleted Secret not found: ${echo(name)}`);
}

export class SecretService {
  readonly #d: SecretServiceDeps;
  readonly #now: () => number;

  constructor(deps: SecretServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** A live (not deleted) vault by name, or VaultNotFound. */
  async vault(name: string): Promise<OpenVault> {
    const row = await this.#d.storage.read.vaults.liveVault(name);
    if (!row || row.type.toLowerCase() !== VAULT_TYPE.toLowerCase()) {
      throw new NotFoundError('KH_VAULT_NOT_FOUND', `The vault '${echo(name)}' was not found in this deployment.`);
    }
    return openVault(row, vaultProperties({ properties: JSON.parse(row.properties) as Record<string, unknown> } as StoredResource));
  }

  async #authorize(caller: VaultCaller, vault: OpenVault, op: SecretOperation, name?: string): Promise<void> {
    try {
      await this.#d.access.require(caller, vault, op, name);
    } catch (err) {
      if (err instanceof ForbiddenError) {
        await this.#d.audit.record({ ...this.#event(caller, vault, `secret.${op}`, name), outcome: 'denied', details: { vault: vault.name, ...(name ? { name } : {}), error: err.code } });
      }
      throw err;
    }
  }

  #event(caller: VaultCaller, vault: OpenVault, action: string, name?: string, version?: string) {
    const target = [vault.name, name, version].filter((x) => x !== undefined).join('/');
    const details: Record<string, string> = { vault: vault.name };
    if (name !== undefined) details['name'] = name;
    if (version !== undefined) details['version'] = version;
    if (caller.appId) details['appId'] = caller.appId;
    return { actor: caller.objectId, action, target, source: caller.source, correlationId: caller.correlationId, details };
  }

  // Writes -------------------------------------------------------------------------------

  async set(caller: VaultCaller, vault: OpenVault, name: string, input: SetSecretInput): Promise<SecretVersion> {
    await this.#authorize(caller, vault, 'set', name);
    checkValue(input.value);
    const nameKey = name.toLowerCase();
    const version = randomUUID().replace(/-/g, '');
    // Sealed before the write's transaction: the vault's data key may be made on first use, in a transaction of its own.
    const ciphertext = await this.#d.envelope.encrypt(purpose(vault.id), input.value.reveal(), aad(vault.id, nameKey, version));
    const now = this.#now();
    const row: KvSecretVersionRow = {
      vault_id: vault.id, name_key: nameKey, version, ciphertext,
      content_type: input.contentType ?? null, tags: JSON.stringify(input.tags ?? {}),
      enabled: input.attributes?.enabled === false ? 0 : 1, nbf: input.attributes?.nbf ?? null, exp: input.attributes?.exp ?? null,
      created: now, updated: now,
    };
    const stored = await this.#d.audit.write(this.#event(caller, vault, 'secret.set', name, version), async (tx) => {
      const secret = await tx.vaults.secret(vault.id, nameKey);
      if (secret && secret.deleted_at !== null) throw deletedConflict(name);
      await tx.vaults.insertVersion(row);
      if (secret) await tx.vaults.updateSecret(vault.id, nameKey, { latest_version: version });
      else await tx.vaults.insertSecret({ vault_id: vault.id, name_key: nameKey, name, latest_version: version, deleted_at: null, scheduled_purge_at: null });
      return secret?.name ?? name;
    }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new ConflictError('KH_VAULT_CONCURRENT_CHANGE', `The secret '${echo(name)}' was changed by another request at the same time; retry.`);
      throw err;
    });
    return { ...toVersion(stored, row), value: input.value };
  }

  async update(caller: VaultCaller, vault: OpenVault, name: string, version: string | undefined, input: UpdateSecretInput): Promise<SecretVersion> {
    await this.#authorize(caller, vault, 'update', name);
    const nameKey = name.toLowerCase();
    return this.#d.audit.write(this.#event(caller, vault, 'secret.update', name, version), async (tx) => {
      const secret = await this.#live(tx, vault, name);
      const v = version ?? secret.latest_version;
      const current = await tx.vaults.version(vault.id, nameKey, v.toLowerCase());
      if (!current) throw secretNotFound(vault.name, name, version);
      const set: Parameters<Tx['vaults']['updateVersion']>[3] = { updated: this.#now() };
      if (input.contentType !== undefined) set.content_type = input.contentType;
      if (input.tags !== undefined) set.tags = JSON.stringify(input.tags);
      if (input.attributes?.enabled !== undefined) set.enabled = input.attributes.enabled ? 1 : 0;
      if (input.attributes?.nbf !== undefined) set.nbf = input.attributes.nbf;
      if (input.attributes?.exp !== undefined) set.exp = input.attributes.exp;
      await tx.vaults.updateVersion(vault.id, nameKey, current.version, set);
      return toVersion(secret.name, { ...current, ...set });
    });
  }

  /** Soft delete (always on): the secret and all its versions stay recoverable until the purge date. */
  async delete(caller: VaultCaller, vault: OpenVault, name: string): Promise<DeletedSecret> {
    await this.#authorize(caller, vault, 'delete', name);
    const now = this.#now();
    const purgeAt = now + vault.props.softDeleteRetentionInDays * 86400;
    return this.#d.audit.write(this.#event(caller, vault, 'secret.delete', name), async (tx) => {
      const secret = await this.#live(tx, vault, name);
      await tx.vaults.updateSecret(vault.id, secret.name_key, { deleted_at: now, scheduled_purge_at: purgeAt });
      const latest = (await tx.vaults.version(vault.id, secret.name_key, secret.latest_version))!;
      return { ...toVersion(secret.name, latest), deletedDate: now, scheduledPurgeDate: purgeAt };
    });
  }

  async recover(caller: VaultCaller, vault: OpenVault, name: string): Promise<SecretVersion> {
    await this.#authorize(caller, vault, 'recover', name);
    return this.#d.audit.write(this.#event(caller, vault, 'secret.recover', name), async (tx) => {
      const secret = await tx.vaults.secret(vault.id, name.toLowerCase());
      if (!secret || secret.deleted_at === null) throw deletedNotFound(name);
      await tx.vaults.updateSecret(vault.id, secret.name_key, { deleted_at: null, scheduled_purge_at: null });
      return toVersion(secret.name, (await tx.vaults.version(vault.id, secret.name_key, secret.latest_version))!);
    });
  }

  /** Permanent deletion of a deleted secret; refused while the vault has purge protection. */
  async purge(caller: VaultCaller, vault: OpenVault, name: string): Promise<void> {
    await this.#authorize(caller, vault, 'purge', name);
    if (vault.props.enablePurgeProtection) {
      throw new ForbiddenError('KH_VAULT_PURGE_PROTECTED', `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.`);
    }
    await this.#d.audit.write(this.#event(caller, vault, 'secret.purge', name), async (tx) => {
      const secret = await tx.vaults.secret(vault.id, name.toLowerCase());
      if (!secret || secret.deleted_at === null) throw deletedNotFound(name);
      await tx.vaults.purgeSecret(vault.id, secret.name_key);
    });
  }

  // Reads --------------------------------------------------------------------------------

  /** The value of the latest or a given version: audited, released once the record is durable. */
  async get(caller: VaultCaller, vault: OpenVault, name: string, version?: string): Promise<SecretVersion> {
    await this.#authorize(caller, vault, 'get', name);
    const found = await this.#d.storage.read.vaults.secretVersion(vault.id, name.toLowerCase(), version?.toLowerCase());
    if (!found || found.secret.deleted_at !== null || !found.row) throw secretNotFound(vault.name, name, version);
    const { secret, row } = found;
    const now = this.#now();
    if (row.enabled === 0) throw new ForbiddenError('KH_VAULT_SECRET_DISABLED', 'Operation get is not allowed on a disabled secret.');
    if (row.nbf !== null && now < row.nbf) throw new ForbiddenError('KH_VAULT_SECRET_NOT_YET_VALID', 'Operation get is not allowed on a secret that is not yet valid (nbf is in the future).');
    if (row.exp !== null && now >= row.exp) throw new ForbiddenError('KH_VAULT_SECRET_EXPIRED', 'Operation get is not allowed on an expired secret.');
    const value = new SecretValue((await this.#d.envelope.decrypt(row.ciphertext, aad(vault.id, secret.name_key, row.version))).toString('utf8'));
    await this.#d.audit.record(this.#event(caller, vault, 'secret.get', secret.name, row.version));
    return { ...toVersion(secret.name, row), value };
  }

  async list(caller: VaultCaller, vault: OpenVault, after: string | undefined, max: number): Promise<Page<SecretVersion>> {
    await this.#authorize(caller, vault, 'list');
    const read = this.#d.storage.read.vaults;
    const rows = await read.secrets(vault.id, false, after, max + 1);
    const items: SecretVersion[] = [];
    for (const s of rows.slice(0, max)) {
      const latest = await read.version(vault.id, s.name_key, s.latest_version);
      if (latest) items.push(toVersion(s.name, latest));
    }
    return rows.length > max ? { items, next: rows[max - 1]!.name_key } : { items };
  }

  async versions(caller: VaultCaller, vault: OpenVault, name: string, after: string | undefined, max: number): Promise<Page<SecretVersion>> {
    await this.#authorize(caller, vault, 'list', name);
    const read = this.#d.storage.read.vaults;
    const secret = await read.secret(vault.id, name.toLowerCase());
    if (!secret || secret.deleted_at !== null) throw secretNotFound(vault.name, name);
    const rows = await read.versions(vault.id, secret.name_key, after, max + 1);
    const items = rows.slice(0, max).map((r) => toVersion(secret.name, r));
    return rows.length > max ? { items, next: rows[max - 1]!.version } : { items };
  }

  async getDeleted(caller: VaultCaller, vault: OpenVault, name: string): Promise<DeletedSecret> {
    await this.#authorize(caller, vault, 'getDeleted', name);
    const read = this.#d.storage.read.vaults;
    const secret = await read.secret(vault.id, name.toLowerCase());
    if (!secret || secret.deleted_at === null) throw deletedNotFound(name);
    return toDeleted(secret, (await read.version(vault.id, secret.name_key, secret.latest_version))!);
  }

  async listDeleted(caller: VaultCaller, vault: OpenVault, after: string | undefined, max: number): Promise<Page<DeletedSecret>> {
    await this.#authorize(caller, vault, 'listDeleted');
    const read = this.#d.storage.read.vaults;
    const rows = await read.secrets(vault.id, true, after, max + 1);
    const items: DeletedSecret[] = [];
    for (const s of rows.slice(0, max)) {
      const latest = await read.version(vault.id, s.name_key, s.latest_version);
      if (latest) items.push(toDeleted(s, latest));
    }
    return rows.length > max ? { items, next: rows[max - 1]!.name_key } : { items };
  }

  // Backup and restore -------------------------------------------------------------------

  /**
   * Every version of a secret, sealed under this deployment's backup data key (wrapped by the
   * KEK): only a Keyhaven holding that KEK and database restores it. Audited as a read of each value.
   */
  async backup(caller: VaultCaller, vault: OpenVault, name: string): Promise<string> {
    await this.#authorize(caller, vault, 'backup', name);
    const read = this.#d.storage.read.vaults;
    const secret = await read.secret(vault.id, name.toLowerCase());
    if (!secret || secret.deleted_at !== null) throw secretNotFound(vault.name, name);
    const versions: Record<string, unknown>[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await read.versions(vault.id, secret.name_key, after, 500);
      for (const r of rows) {
        const value = (await this.#d.envelope.decrypt(r.ciphertext, aad(vault.id, secret.name_key, r.version))).toString('utf8');
        versions.push({ version: r.version, value, contentType: r.content_type, tags: JSON.parse(r.tags), enabled: r.enabled === 1, nbf: r.nbf, exp: r.exp, created: r.created, updated: r.updated });
      }
      if (rows.length < 500) break;
      after = rows[rows.length - 1]!.version;
    }
    const blob = await this.#d.envelope.encrypt(BACKUP_PURPOSE, JSON.stringify({ v: 1, name: secret.name, latest: secret.latest_version, versions }), BACKUP_CONTEXT);
    await this.#d.audit.record(this.#event(caller, vault, 'secret.backup', secret.name, secret.latest_version));
    return Buffer.from(blob, 'utf8').toString('base64url');
  }

  async restore(caller: VaultCaller, vault: OpenVault, blob: string): Promise<SecretVersion> {
    await this.#authorize(caller, vault, 'restore');
    const parsed = await this.#openBackup(blob);
    const nameKey = parsed.name.toLowerCase();
    const rows: KvSecretVersionRow[] = [];
    for (const v of parsed.versions) {
      rows.push({
        vault_id: vault.id, name_key: nameKey, version: v.version,
        ciphertext: await this.#d.envelope.encrypt(purpose(vault.id), v.value, aad(vault.id, nameKey, v.version)),
        content_type: v.contentType, tags: JSON.stringify(v.tags), enabled: v.enabled ? 1 : 0, nbf: v.nbf, exp: v.exp, created: v.created, updated: v.updated,
      });
    }
    return this.#d.audit.write(this.#event(caller, vault, 'secret.restore', parsed.name, parsed.latest), async (tx) => {
      const existing = await tx.vaults.secret(vault.id, nameKey);
      if (existing) {
        throw existing.deleted_at !== null
          ? deletedConflict(parsed.name)
          : new ConflictError('KH_VAULT_SECRET_EXISTS', `Secret ${echo(parsed.name)} already exists in this vault: a backup is restored only where its name is free.`);
      }
      await tx.vaults.insertSecret({ vault_id: vault.id, name_key: nameKey, name: parsed.name, latest_version: parsed.latest, deleted_at: null, scheduled_purge_at: null });
      for (const r of rows) await tx.vaults.insertVersion(r);
      return toVersion(parsed.name, rows.find((r) => r.version === parsed.latest)!);
    }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new ConflictError('KH_VAULT_SECRET_EXISTS', `Secret ${echo(parsed.name)} already exists in this vault.`);
      throw err;
    });
  }

  async #openBackup(blob: string): Promise<{ name: string; latest: string; versions: { version: string; value: string; contentType: string | null; tags: Record<string, string>; enabled: boolean; nbf: number | null; exp: number | null; created: number; updated: number }[] }> {
    const invalid = () => new InvalidInputError('KH_VAULT_BACKUP_INVALID', 'Backup blob contains invalid or corrupt version.');
    let text: string;
    try {
      text = (await this.#d.envelope.decrypt(Buffer.from(blob, 'base64url').toString('utf8'), BACKUP_CONTEXT)).toString('utf8');
    } catch (err) {
      if (err instanceof KeyhavenError) throw invalid();
      throw err;
    }
    const parsed = JSON.parse(text) as { v: number; name: string; latest: string; versions: never[] };
    if (parsed.v !== 1 || typeof parsed.name !== 'string' || !Array.isArray(parsed.versions) || parsed.versions.length === 0) throw invalid();
    return parsed;
  }

  async #live(tx: Tx, vault: OpenVault, name: string): Promise<KvSecretRow> {
    const secret = await tx.vaults.secret(vault.id, name.toLowerCase());
    if (!secret || secret.deleted_at !== null) throw secretNotFound(vault.name, name);
    return secret;
  }

  // Scheduled purge ----------------------------------------------------------------------

  /** Purges deleted secrets and vaults whose scheduled purge date has passed; returns how many. */
  async purgeDue(): Promise<number> {
    const now = this.#now();
    let purged = 0;
    for (const s of await this.#d.storage.read.vaults.secretsDueForPurge(now, 500)) {
      await this.#d.audit.write({ actor: 'system', action: 'secret.purge', target: `${s.vault_id}/${s.name}`, details: { scheduled: true } }, async (tx) => {
        const current = await tx.vaults.secret(s.vault_id, s.name_key);
        if (current && current.scheduled_purge_at !== null && current.scheduled_purge_at <= now) await tx.vaults.purgeSecret(s.vault_id, s.name_key);
      });
      purged++;
    }
    for (const v of await this.#d.storage.read.vaults.vaultsDueForPurge(new Date(now * 1000).toISOString(), 100)) {
      await this.#d.audit.write({ actor: 'system', action: 'vault.purge', target: v.name, details: { scheduled: true } }, async (tx) => {
        const current = await tx.vaults.byName(v.name);
        if (current && current.id === v.id && current.deleted_at !== null) await tx.vaults.purgeVault(v.name, v.id);
      });
      purged++;
    }
    return purged;
  }
}

export function openVault(row: KvVaultRow, props: VaultProperties): OpenVault {
  return { name: row.name, id: row.id, resourceId: row.resource_id, location: row.location, props };
}

function deletedConflict(name: string): ConflictError {
  return new ConflictError('KH_VAULT_SECRET_DELETED', `Secret ${echo(name)} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`);
}

function checkValue(value: SecretValue): void {
  if (Buffer.byteLength(value.reveal(), 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw new InvalidInputError('KH_VAULT_VALUE_TOO_LARGE', `The secret value is larger than ${MAX_SECRET_VALUE_BYTES} bytes, the most a secret may hold.`);
  }
}

function toVersion(name: string, r: Pick<KvSecretVersionRow, 'version' | 'content_type' | 'tags' | 'enabled' | 'nbf' | 'exp' | 'created' | 'updated'>): SecretVersion {
  return { name, version: r.version, contentType: r.content_type, tags: JSON.parse(r.tags) as Record<string, string>, enabled: r.enabled === 1, nbf: r.nbf, exp: r.exp, created: r.created, updated: r.updated };
}

function toDeleted(s: KvSecretRow, r: KvSecretVersionRow): DeletedSecret {
  return { ...toVersion(s.name, r), deletedDate: s.deleted_at!, scheduledPurgeDate: s.scheduled_purge_at! };
}
