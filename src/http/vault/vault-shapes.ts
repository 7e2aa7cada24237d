// Key Vault's JSON shapes (REST API 7.x): SecretBundle, SecretItem, DeletedSecretBundle,
// DeletedSecretItem, with `attributes` in Unix seconds. Identifiers always use the vault's
// vaultUri (`https://{vault}.{vaultDnsSuffix}:{port}/`), as the SDKs parse names and versions from them.
import type { OpenVault } from '../../vault/secret-service.js';
import type { DeletedSecret, SecretVersion } from '../../vault/secret-service.js';

function attributes(vault: OpenVault, v: SecretVersion): Record<string, unknown> {
  const a: Record<string, unknown> = { enabled: v.enabled };
  if (v.nbf !== null) a['nbf'] = v.nbf;
  if (v.exp !== null) a['exp'] = v.exp;
  a['created'] = v.created;
  a['updated'] = v.updated;
  // Soft delete is always on; with purge protection a deleted secret cannot be purged before its date.
  a['recoveryLevel'] = vault.props.enablePurgeProtection ? 'Recoverable' : 'Recoverable+Purgeable';
  a['recoverableDays'] = vault.props.softDeleteRetentionInDays;
  return a;
}

function common(vault: OpenVault, v: SecretVersion, id: string): Record<string, unknown> {
  const out: Record<string, unknown> = { id };
  if (v.contentType !== null) out['contentType'] = v.contentType;
  out['attributes'] = attributes(vault, v);
  if (Object.keys(v.tags).length > 0) out['tags'] = v.tags;
  return out;
}

export function secretBundle(vault: OpenVault, v: SecretVersion): Record<string, unknown> {
  const body = common(vault, v, `${vault.props.vaultUri}secrets/${v.name}/${v.version}`);
  // The value is revealed here only, into the response of a call that audited it.
  return v.value ? { value: v.value.reveal(), ...body } : body;
}

export function secretItem(vault: OpenVault, v: SecretVersion, withVersion: boolean): Record<string, unknown> {
  return common(vault, v, `${vault.props.vaultUri}secrets/${v.name}${withVersion ? `/${v.version}` : ''}`);
}

function deletedPart(vault: OpenVault, d: DeletedSecret): Record<string, unknown> {
  return { recoveryId: `${vault.props.vaultUri}deletedsecrets/${d.name}`, deletedDate: d.deletedDate, scheduledPurgeDate: d.scheduledPurgeDate };
}

export function deletedSecretBundle(vault: OpenVault, d: DeletedSecret): Record<string, unknown> {
  return { ...secretBundle(vault, { ...d, value: undefined } as SecretVersion), ...deletedPart(vault, d) };
}

export function deletedSecretItem(vault: OpenVault, d: DeletedSecret): Record<string, unknown> {
  return { ...secretItem(vault, d, false), ...deletedPart(vault, d) };
}
