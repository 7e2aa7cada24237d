// Microsoft.ManagedIdentity/userAssignedIdentities: an identity that is a resource of its own
// ("Manage user-assigned managed identities"), attachable to many resources. Behind each one
// is a service principal of servicePrincipalType ManagedIdentity in the directory (Graph's
// /servicePrincipals), whose object id is the identity's principalId and whose appId is its
// clientId — what role assignments name and what a token for the identity carries as `oid`
// and `appid`. The principal is made with the resource and goes with it (its role assignments
// too), in the resource's own transaction.
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { Tx } from '../../storage/storage.js';
import { USER_ASSIGNED_IDENTITY_TYPE } from '../resource-identity.js';
import type { PreparedResource, ResourceRequest, ResourceTypes, StoredResource } from '../resource-types.js';

/** The versions az (2.45 sends 2022-01-31-preview), the Azure SDKs and ARM templates use. */
export const MANAGED_IDENTITY_API_VERSIONS = [
  '2015-08-31-preview', '2018-11-30', '2021-09-30-preview', '2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview',
] as const;

/** The directory's side of a managed identity: its service principal, written inside the resource's transaction. */
export interface ManagedIdentityPrincipals {
  create(tx: Tx, principal: { id: string; appId: string; displayName: string }): Promise<void>;
  /** The principal, its memberships and its role assignments (directory and management plane). */
  remove(tx: Tx, id: string): Promise<void>;
}

export interface ManagedIdentityOptions {
  tenantId: string;
  principals: ManagedIdentityPrincipals;
}

/** A service principal's display name: the resource's name, within Graph's 256 characters. */
export function principalDisplayName(resourceName: string): string {
  return resourceName.slice(0, 256);
}

function prepare(tenantId: string) {
  return (request: ResourceRequest, existing: StoredResource | undefined): PreparedResource => {
    if (request.identity !== undefined && request.identity !== null) {
      throw new InvalidInputError('KH_ARM_IDENTITY_UNSUPPORTED', 'A user-assigned identity has no identity block of its own.');
    }
    // clientId, principalId and tenantId are read-only: made at creation, kept on every later PUT.
    // isolationScope (2023-07-31-preview and later) is the one settable property.
    const properties: Record<string, unknown> = {
      tenantId,
      principalId: typeof existing?.properties['principalId'] === 'string' ? existing.properties['principalId'] : randomUUID(),
      clientId: typeof existing?.properties['clientId'] === 'string' ? existing.properties['clientId'] : randomUUID(),
    };
    const isolation = request.properties['isolationScope'];
    if (isolation !== undefined && isolation !== null) {
      if (isolation !== 'None' && isolation !== 'Regional') throw new InvalidInputError('KH_ARM_PROPERTY_INVALID', "properties.isolationScope must be 'None' or 'Regional'.");
      properties['isolationScope'] = isolation;
    }
    return { properties };
  };
}

export function registerManagedIdentityTypes(types: ResourceTypes, options: ManagedIdentityOptions): void {
  types.register({
    type: USER_ASSIGNED_IDENTITY_TYPE,
    apiVersions: MANAGED_IDENTITY_API_VERSIONS,
    prepare: prepare(options.tenantId),
    async afterWrite(tx, resource, previous) {
      if (previous) return;
      await options.principals.create(tx, {
        id: String(resource.properties['principalId']),
        appId: String(resource.properties['clientId']),
        displayName: principalDisplayName(resource.name),
      });
    },
    async beforeDelete(tx, resource) {
      const principalId = resource.properties['principalId'];
      if (typeof principalId === 'string') await options.principals.remove(tx, principalId);
    },
  });
}
