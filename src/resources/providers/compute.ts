// Microsoft.Compute: a registered machine (virtualMachines) and a pool of machines
// (virtualMachineScaleSets). Only their ARM envelope for now; managed identities (system- and
// user-assigned, with assign/action on each attached identity) and machine enrollment come
// with the identity provider, which will supply `identity` handling through the same hooks.
import { InvalidInputError } from '../../errors.js';
import type { ResourceRequest, ResourceTypeProvider, ResourceTypes } from '../resource-types.js';

export const COMPUTE_API_VERSIONS = [
  '2021-03-01', '2021-04-01', '2021-07-01', '2021-11-01', '2022-03-01', '2022-08-01', '2022-11-01',
  '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01',
] as const;

function prepare(request: ResourceRequest): ReturnType<ResourceTypeProvider['prepare']> {
  const identity = request.identity;
  if (identity !== undefined && identity !== null) {
    const type = typeof identity === 'object' && !Array.isArray(identity) ? (identity as Record<string, unknown>)['type'] : undefined;
    if (typeof type !== 'string' || type.toLowerCase() !== 'none') {
      throw new InvalidInputError('KH_ARM_IDENTITY_UNSUPPORTED', 'Managed identities on this resource type are not available yet: send no identity, or {"type": "None"}.');
    }
  }
  const properties = { ...request.properties };
  delete properties['provisioningState'];
  const extra: Record<string, unknown> = {};
  for (const field of ['sku', 'zones', 'plan']) if (request.body[field] !== undefined) extra[field] = request.body[field];
  return { properties, extra };
}

/** What other parts add to the compute types (machine enrollment's delete cascade, src/machines/). */
export interface ComputeHooks {
  beforeDelete?: ResourceTypeProvider['beforeDelete'];
}

export function registerComputeTypes(types: ResourceTypes, hooks: ComputeHooks = {}): void {
  for (const type of ['Microsoft.Compute/virtualMachines', 'Microsoft.Compute/virtualMachineScaleSets']) {
    types.register({ type, apiVersions: COMPUTE_API_VERSIONS, prepare, ...(hooks.beforeDelete ? { beforeDelete: hooks.beforeDelete } : {}) });
  }
}
