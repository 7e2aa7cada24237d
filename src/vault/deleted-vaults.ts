// Soft-deleted vaults (Azure: "Key Vault soft-delete overview"): listed per subscription, read
// by location and name, purged for good on request — refused while the vault has purge
// protection and its retention has not ended — or by the schedule at their purge date.
import type { AuditLog } from '../audit/audit-log.js';
import { auditEvent, type Actor } from '../directory/directory-context.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { StoredResource } from '../resources/resource-types.js';
import type { KvVaultRow } from '../storage/repos/vault-repo.js';
import type { Storage } from '../storage/storage.js';
import { echo } from './vault-names.js';

export interface DeletedVault {
  name: string;
  subscriptionId: string;
  location: string;
  /** The vault's resource id as it was. */
  vaultId: string;
  deletionDate: string;
  scheduledPurgeDate: string;
  tags: Record<string, string>;
  purgeProtectionEnabled: boolean;
}

export class DeletedVaults {
  constructor(private readonly deps: { storage: Storage; audit: AuditLog }) {}

  async list(subscriptionId: string): Promise<DeletedVault[]> {
    return (await this.deps.storage.read.vaults.deletedVaults(subscriptionId.toLowerCase())).map(toDeleted);
  }

  async get(subscriptionId: string, location: string, name: string): Promise<DeletedVault> {
    const row = await this.deps.storage.read.vaults.byName(name);
    if (!row || row.deleted_at === null || row.subscription_id !== subscriptionId.toLowerCase() || row.location !== location.replace(/ /g, '').toLowerCase()) {
      throw new NotFoundError('KH_VAULT_DELETED_NOT_FOUND', `The deleted vault '${echo(name)}' was not found in location '${echo(location)}'.`);
    }
    return toDeleted(row);
  }

  async purge(actor: Actor, subscriptionId: string, location: string, name: string): Promise<void> {
    const vault = await this.get(subscriptionId, location, name);
    if (vault.purgeProtectionEnabled && Date.parse(vault.scheduledPurgeDate) > Date.now()) {
      throw new ForbiddenError('KH_VAULT_PURGE_PROTECTED', `Operation "purge" is not allowed because purge protection is enabled for vault '${vault.name}'. It is purged at its scheduled purge date, ${vault.scheduledPurgeDate}.`);
    }
    await this.deps.audit.write(auditEvent(actor, 'vault.purge', vault.name), async (tx) => {
      const row = await tx.vaults.byName(name);
      if (!row || row.deleted_at === null) throw new NotFoundError('KH_VAULT_DELETED_NOT_FOUND', `The deleted vault '${echo(name)}' was not found.`);
      await tx.vaults.purgeVault(row.name, row.id);
    });
  }
}

function toDeleted(row: KvVaultRow): DeletedVault {
  const resource = JSON.parse(row.deleted_resource ?? '{}') as Partial<StoredResource>;
  return {
    name: resource.name ?? row.name,
    subscriptionId: row.subscription_id,
    location: row.location,
    vaultId: row.resource_id,
    deletionDate: row.deleted_at!,
    scheduledPurgeDate: row.scheduled_purge_at!,
    tags: resource.tags ?? {},
    purgeProtectionEnabled: resource.properties?.['enablePurgeProtection'] === true,
  };
}
