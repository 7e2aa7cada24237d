// Microsoft.KeyVault/vaults: a vault's ARM envelope, checked and normalized here (tenantId, sku,
// accessPolicies, enableRbacAuthorization, softDeleteRetentionInDays, enablePurgeProtection;
// vaultUri made from the vault's name), and its data-plane record in kv_vaults: the name is
// unique in the deployment, a deleted vault is soft-deleted (its secrets kept until purge) and
// comes back with `createMode: recover` (Azure's "Key Vault soft-delete overview").
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.js';
import type { Tx } from '../../storage/storage.js';
import { echo, isVaultName } from '../../vault/vault-names.js';
import type { ResourceRequest, ResourceTypeProvider, ResourceTypes, StoredResource } from '../resource-types.js';

export const VAULT_TYPE = 'Microsoft.KeyVault/vaults';
export const KEY_VAULT_API_VERSIONS = ['2019-09-01', '2021-10-01', '2022-07-01', '2023-02-01', '2023-07-01', '2024-11-01'] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Key Vault's secret permissions (an access policy's `permissions.secrets`). */
export const SECRET_PERMISSIONS = ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'] as const;
const KEY_PERMISSIONS = ['all', 'encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify', 'get', 'list', 'create', 'update', 'import', 'delete', 'backup', 'restore', 'recover', 'purge', 'release', 'rotate', 'getrotationpolicy', 'setrotationpolicy'];
const CERT_PERMISSIONS = ['all', 'get', 'list', 'delete', 'create', 'import', 'update', 'managecontacts', 'getissuers', 'listissuers', 'setissuers', 'deleteissuers', 'manageissuers', 'recover', 'purge', 'backup', 'restore'];
const STORAGE_PERMISSIONS = ['all', 'get', 'list', 'delete', 'set', 'update', 'regeneratekey', 'recover', 'purge', 'backup', 'restore', 'setsas', 'listsas', 'getsas', 'deletesas'];
const MAX_POLICIES = 1024;

export interface AccessPolicy {
  tenantId: string;
  objectId: string;
  applicationId?: string;
  permissions: { keys?: string[]; secrets?: string[]; certificates?: string[]; storage?: string[] };
}

/** What the data plane needs of a vault, read from its ARM properties. */
export interface VaultProperties {
  tenantId: string;
  vaultUri: string;
  accessPolicies: AccessPolicy[];
  enableRbacAuthorization: boolean;
  softDeleteRetentionInDays: number;
  enablePurgeProtection: boolean;
}

export interface KeyVaultProviderOptions {
  tenantId: string;
  vaultDnsSuffix: string;
  httpsPort: number;
}

export function vaultUri(name: string, o: Pick<KeyVaultProviderOptions, 'vaultDnsSuffix' | 'httpsPort'>): string {
  return `https://${name.toLowerCase()}.${o.vaultDnsSuffix}${o.httpsPort === 443 ? '' : `:${o.httpsPort}`}/`;
}

export function vaultProperties(resource: StoredResource): VaultProperties {
  const p = resource.properties;
  return {
    tenantId: String(p['tenantId']),
    vaultUri: String(p['vaultUri']),
    accessPolicies: (p['accessPolicies'] as AccessPolicy[] | undefined) ?? [],
    enableRbacAuthorization: p['enableRbacAuthorization'] === true,
    softDeleteRetentionInDays: typeof p['softDeleteRetentionInDays'] === 'number' ? p['softDeleteRetentionInDays'] : 90,
    enablePurgeProtection: p['enablePurgeProtection'] === true,
  };
}

function bad(message: string): InvalidInputError {
  return new InvalidInputError('KH_VAULT_PROPERTY_INVALID', message);
}

function permissionList(value: unknown, allowed: readonly string[], what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > allowed.length * 2) throw bad(`accessPolicies permissions.${what} must be an array of permission names.`);
  const out = new Set<string>();
  for (const v of value) {
    if (typeof v !== 'string' || !allowed.includes(v.toLowerCase())) throw bad(`'${echo(String(v))}' is not a valid ${what} permission. Valid values: ${allowed.join(', ')}.`);
    out.add(v.toLowerCase());
  }
  return [...out];
}

export function parseAccessPolicies(value: unknown, tenantId: string): AccessPolicy[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad('properties.accessPolicies must be an array.');
  if (value.length > MAX_POLICIES) throw bad(`A vault holds at most ${MAX_POLICIES} access policies.`);
  const out: AccessPolicy[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw bad('Each access policy must be an object.');
    const e = entry as Record<string, unknown>;
    if (typeof e['objectId'] !== 'string' || !GUID.test(e['objectId'])) throw bad("An access policy's objectId must be a GUID.");
    const tenant = e['tenantId'] ?? tenantId;
    if (typeof tenant !== 'string' || tenant.toLowerCase() !== tenantId) throw bad(`An access policy's tenantId must be this deployment's tenant ('${tenantId}').`);
    const policy: AccessPolicy = { tenantId, objectId: e['objectId'].toLowerCase(), permissions: {} };
    if (e['applicationId'] !== undefined && e['applicationId'] !== null) {
      if (typeof e['applicationId'] !== 'string' || !GUID.test(e['applicationId'])) throw bad("An access policy's applicationId must be a GUID.");
      policy.applicationId = e['applicationId'].toLowerCase();
    }
    const perms = e['permissions'];
    if (typeof perms !== 'object' || perms === null || Array.isArray(perms)) throw bad("An access policy needs 'permissions'.");
    const p = perms as Record<string, unknown>;
    const keys = permissionList(p['keys'], KEY_PERMISSIONS, 'keys');
    const secrets = permissionList(p['secrets'], SECRET_PERMISSIONS, 'secrets');
    const certificates = permissionList(p['certificates'], CERT_PERMISSIONS, 'certificates');
    const storage = permissionList(p['storage'], STORAGE_PERMISSIONS, 'storage');
    if (keys) policy.permissions.keys = keys;
    if (secrets) policy.permissions.secrets = secrets;
    if (certificates) policy.permissions.certificates = certificates;
    if (storage) policy.permissions.storage = storage;
    out.push(policy);
  }
  return out;
}

export function keyVaultProvider(o: KeyVaultProviderOptions): ResourceTypeProvider {
  /** Recoveries asked for by a PUT's createMode, from prepare() to afterWrite() of the same write. */
  const recovering = new Set<string>();
  return {
    type: VAULT_TYPE,
    apiVersions: KEY_VAULT_API_VERSIONS,
    prepare(request: ResourceRequest, existing: StoredResource | undefined) {
      if (!isVaultName(request.name)) {
        throw new InvalidInputError('KH_VAULT_NAME_INVALID', `The vault name '${echo(request.name)}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`);
      }
      if (request.identity !== undefined && request.identity !== null) throw new InvalidInputError('KH_ARM_IDENTITY_UNSUPPORTED', 'A vault has no managed identity.');
      const p = request.properties;
      const tenantId = p['tenantId'] ?? o.tenantId;
      if (typeof tenantId !== 'string' || tenantId.toLowerCase() !== o.tenantId) throw bad(`properties.tenantId must be this deployment's tenant ('${o.tenantId}').`);
      const sku = p['sku'] ?? { family: 'A', name: 'standard' };
      const skuName = typeof sku === 'object' && sku !== null ? (sku as Record<string, unknown>)['name'] : undefined;
      if (typeof skuName !== 'string' || !['standard', 'premium'].includes(skuName.toLowerCase())) throw bad("properties.sku.name must be 'standard' or 'premium'.");
      const retention = p['softDeleteRetentionInDays'] ?? (existing ? existing.properties['softDeleteRetentionInDays'] : 90);
      if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 7 || retention > 90) throw bad('properties.softDeleteRetentionInDays must be an integer from 7 to 90.');
      if (existing && existing.properties['softDeleteRetentionInDays'] !== retention) throw bad('softDeleteRetentionInDays cannot be changed once the vault exists.');
      if (p['enableSoftDelete'] === false) throw bad('Soft delete is always on: enableSoftDelete cannot be false.');
      const rbac = p['enableRbacAuthorization'] ?? false;
      if (typeof rbac !== 'boolean') throw bad('properties.enableRbacAuthorization must be a boolean.');
      const purgeProtection = p['enablePurgeProtection'] ?? (existing?.properties['enablePurgeProtection'] === true ? true : undefined);
      if (purgeProtection !== undefined && typeof purgeProtection !== 'boolean') throw bad('properties.enablePurgeProtection must be a boolean.');
      if (existing?.properties['enablePurgeProtection'] === true && purgeProtection !== true) {
        throw bad('Purge protection cannot be turned off once it is enabled on a vault.');
      }
      const createMode = p['createMode'] ?? 'default';
      if (createMode !== 'default' && createMode !== 'recover') throw bad("properties.createMode must be 'default' or 'recover'.");
      // Set or cleared on every PUT, so a recovery asked for by a write that failed before afterWrite never carries over.
      if (createMode === 'recover') recovering.add(request.id.toLowerCase());
      else recovering.delete(request.id.toLowerCase());
      const properties: Record<string, unknown> = { ...p };
      for (const k of ['provisioningState', 'createMode', 'vaultUri', 'hsmPoolResourceId']) delete properties[k];
      Object.assign(properties, {
        tenantId: o.tenantId,
        sku: { family: 'A', name: skuName.toLowerCase() },
        accessPolicies: parseAccessPolicies(p['accessPolicies'], o.tenantId),
        enableRbacAuthorization: rbac,
        enableSoftDelete: true,
        softDeleteRetentionInDays: retention,
        vaultUri: vaultUri(request.name, o),
      });
      if (purgeProtection === true) properties['enablePurgeProtection'] = true;
      else delete properties['enablePurgeProtection'];
      return { properties, extra: {} };
    },
    async afterWrite(tx: Tx, resource: StoredResource) {
      const key = resource.id.toLowerCase();
      const recover = recovering.delete(key);
      const row = await tx.vaults.byName(resource.name);
      if (row && row.deleted_at === null) {
        if (row.resource_key !== key) throw nameTaken(resource.name);
        return;
      }
      if (row) {
        if (!recover) {
          throw new ConflictError('KH_VAULT_DELETED_EXISTS', `A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault '${resource.name}'.`);
        }
        if (row.resource_key !== key) throw nameTaken(resource.name);
        // As Azure's recovery: the vault comes back as it was deleted (access policies, model,
        // retention, purge protection), whatever else the recovering PUT said.
        const before = row.deleted_resource === null ? undefined : (JSON.parse(row.deleted_resource) as StoredResource);
        const stored = await tx.armResources.byKey(key);
        if (before && stored) {
          const properties = { ...before.properties, provisioningState: 'Succeeded' };
          await tx.armResources.replace({ ...stored, properties: JSON.stringify(properties) }, stored.etag);
          for (const k of Object.keys(resource.properties)) delete resource.properties[k];
          Object.assign(resource.properties, properties);
        }
        await tx.vaults.updateVault(row.name, { deleted_at: null, scheduled_purge_at: null, deleted_resource: null });
        return;
      }
      if (recover) throw new NotFoundError('KH_VAULT_DELETED_NOT_FOUND', `No deleted vault '${resource.name}' to recover.`);
      const sub = /^\/subscriptions\/([^/]+)\//i.exec(resource.id)![1]!.toLowerCase();
      await tx.vaults.insertVault({
        name: resource.name.toLowerCase(), id: randomUUID(), resource_key: key, resource_id: resource.id, subscription_id: sub,
        location: resource.location, created_at: new Date().toISOString(), deleted_at: null, scheduled_purge_at: null, deleted_resource: null,
      });
    },
    async beforeDelete(tx: Tx, resource: StoredResource) {
      const row = await tx.vaults.byName(resource.name);
      if (!row || row.resource_key !== resource.id.toLowerCase()) return;
      const days = vaultProperties(resource).softDeleteRetentionInDays;
      const now = new Date();
      await tx.vaults.updateVault(row.name, {
        deleted_at: now.toISOString(),
        scheduled_purge_at: new Date(now.getTime() + days * 86400_000).toISOString(),
        deleted_resource: JSON.stringify(resource),
      });
    },
  };
}

function nameTaken(name: string): ConflictError {
  return new ConflictError('KH_VAULT_NAME_TAKEN', `The vault name '${echo(name)}' is already in use. Vault names are unique in this deployment.`);
}

export function registerKeyVaultTypes(types: ResourceTypes, options: KeyVaultProviderOptions): void {
  types.register(keyVaultProvider(options));
}
