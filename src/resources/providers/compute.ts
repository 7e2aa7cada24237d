// Microsoft.Compute: a registered machine (virtualMachines) and a pool of machines
// (virtualMachineScaleSets). Both hold managed identities as ARM has them (resource-identity.ts):
// a system-assigned identity is a ManagedIdentity service principal made with the resource
// and deleted with it (or when the identity is switched off); user-assigned identities are
// attached by id, each needing assign/action on the identity (Managed Identity Operator).
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../storage/storage.js';
import { linkedIdentityPermissions, parseIdentityRequest, resolveIdentity, systemPrincipalOf } from '../resource-identity.js';
import type { PreparedResource, ResourceRequest, ResourceTypeProvider, ResourceTypes, StoredResource } from '../resource-types.js';
import { principalDisplayName, type ManagedIdentityOptions } from './managed-identity.js';

// 2020-06-01 is what Azure Stack Hub's 2020-09-01-hybrid profile sends (az cloud register --profile 2020-09-01-hybrid).
export const COMPUTE_API_VERSIONS = [
  '2019-07-01', '2019-12-01', '2020-06-01', '2020-12-01', '2021-03-01', '2021-04-01', '2021-07-01', '2021-11-01', '2022-03-01', '2022-08-01', '2022-11-01',
  '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01',
] as const;

function prepare(options: ManagedIdentityOptions) {
  return async (request: ResourceRequest, existing: StoredResource | undefined, tx: Tx): Promise<PreparedResource> => {
    const identity = await resolveIdentity(tx, request.id, parseIdentityRequest(request.identity), existing, options.tenantId);
    const properties = { ...request.properties };
    delete properties['provisioningState'];
    const extra: Record<string, unknown> = {};
    for (const field of ['sku', 'zones', 'plan']) if (request.body[field] !== undefined) extra[field] = request.body[field];
    return { properties, identity, extra };
  };
}

/** The system-assigned identity's service principal follows the identity block: made when it appears, removed when it goes. */
function syncSystemIdentity(options: ManagedIdentityOptions) {
  return async (tx: Tx, resource: StoredResource, previous: StoredResource | undefined): Promise<void> => {
    const before = systemPrincipalOf(previous?.identity);
    const now = systemPrincipalOf(resource.identity);
    if (before !== undefined && before !== now) await options.principals.remove(tx, before);
    if (now !== undefined && now !== before) await options.principals.create(tx, { id: now, appId: randomUUID(), displayName: principalDisplayName(resource.name) });
  };
}

/** What other parts add to the compute types (machine enrollment's delete cascade, src/machines/). */
export interface ComputeHooks {
  beforeDelete?: ResourceTypeProvider['beforeDelete'];
}

export function registerComputeTypes(types: ResourceTypes, options: ManagedIdentityOptions, hooks: ComputeHooks = {}): void {
  for (const type of ['Microsoft.Compute/virtualMachines', 'Microsoft.Compute/virtualMachineScaleSets']) {
    types.register({
      type,
      apiVersions: COMPUTE_API_VERSIONS,
      prepare: prepare(options),
      linkedPermissions: (request) => linkedIdentityPermissions(request.identity),
      afterWrite: syncSystemIdentity(options),
      async beforeDelete(tx, resource) {
        await hooks.beforeDelete?.(tx, resource);
        const principal = systemPrincipalOf(resource.identity);
        if (principal !== undefined) await options.principals.remove(tx, principal);
      },
    });
  }
}
