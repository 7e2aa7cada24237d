// Who may do what to a vault's secrets, in the vault's own model (Azure: "Azure Key Vault
// security": access policies or Azure RBAC, one per vault), deny by default:
//  - access policies: the caller's object id, or any group it is in now (transitively, as the
//    directory holds it — never the token's groups claim), has an entry whose secret
//    permissions hold the operation's permission (or `all`);
//  - RBAC (`enableRbacAuthorization`): the shared evaluator (src/authz) grants the operation's
//    data action at the secret's scope `{vaultId}/secrets/{name}` or above.
// Control-plane roles (Owner, Contributor) grant no data access in either model.
import type { Authorizer } from '../authz/authorizer.js';
import { ForbiddenError } from '../errors.js';
import type { VaultProperties } from '../resources/providers/key-vault.js';

export type SecretOperation = 'get' | 'list' | 'set' | 'update' | 'delete' | 'recover' | 'backup' | 'restore' | 'purge' | 'getDeleted' | 'listDeleted';

/** The access-policy permission each operation needs (Key Vault REST API reference, "Permissions"). */
const POLICY_PERMISSION: Record<SecretOperation, string> = {
  get: 'get', list: 'list', set: 'set', update: 'set', delete: 'delete', recover: 'recover',
  backup: 'backup', restore: 'restore', purge: 'purge', getDeleted: 'list', listDeleted: 'list',
};

const SECRETS = 'Microsoft.KeyVault/vaults/secrets';
/** The RBAC data action each operation needs ("Azure built-in roles for Key Vault data plane operations"). */
export const DATA_ACTION: Record<SecretOperation, string> = {
  get: `${SECRETS}/getSecret/action`,
  list: `${SECRETS}/readMetadata/action`,
  getDeleted: `${SECRETS}/readMetadata/action`,
  listDeleted: `${SECRETS}/readMetadata/action`,
  set: `${SECRETS}/setSecret/action`,
  update: `${SECRETS}/update/action`,
  delete: `${SECRETS}/delete`,
  recover: `${SECRETS}/recover/action`,
  backup: `${SECRETS}/backup/action`,
  restore: `${SECRETS}/restore/action`,
  purge: `${SECRETS}/purge/action`,
};

export interface VaultCaller {
  objectId: string;
  appId: string;
  /** Where the request came from (the client address), for the audit record. */
  source: string;
  correlationId: string;
  issuer: string;
}

export interface AccessTarget {
  name: string;
  resourceId: string;
  location: string;
  props: VaultProperties;
}

export class VaultAccess {
  constructor(private readonly authorizer: Authorizer) {}

  /** Throws Forbidden (ForbiddenByPolicy / ForbiddenByRbac) unless the caller may. */
  async require(caller: VaultCaller, vault: AccessTarget, operation: SecretOperation, secretName?: string): Promise<void> {
    if (vault.props.enableRbacAuthorization) {
      const scope = secretName === undefined ? vault.resourceId : `${vault.resourceId}/secrets/${secretName}`;
      if (await this.authorizer.can(caller.objectId, DATA_ACTION[operation], scope, 'dataAction')) return;
      throw new ForbiddenError(
        'KH_VAULT_FORBIDDEN_BY_RBAC',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${caller.appId};oid=${caller.objectId};iss=${caller.issuer}\r\nAction: '${DATA_ACTION[operation]}'\r\nResource: '${scope.toLowerCase()}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${vault.name};location=${vault.location}\r\n`,
      );
    }
    const needed = POLICY_PERMISSION[operation];
    const ids = new Set(await this.authorizer.principalIds(caller.objectId));
    for (const policy of vault.props.accessPolicies) {
      if (!ids.has(policy.objectId.toLowerCase())) continue;
      // A compound entry (objectId + applicationId) applies only to that application acting for the user.
      if (policy.applicationId !== undefined && policy.applicationId !== caller.appId.toLowerCase()) continue;
      const secrets = policy.permissions.secrets ?? [];
      if (secrets.includes(needed) || secrets.includes('all')) return;
    }
    throw new ForbiddenError(
      'KH_VAULT_FORBIDDEN_BY_POLICY',
      `The user, group or application 'appid=${caller.appId};oid=${caller.objectId};iss=${caller.issuer}' does not have secrets ${needed} permission on key vault '${vault.name};location=${vault.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
    );
  }
}
