// The managed identities a machine may get tokens for: those of the VM or scale set it joined,
// read from the resource's identity block in ARM's shape (`principalId` for the system-assigned
// identity, `userAssignedIdentities: {id: {principalId, clientId}}`), each checked against the
// directory: its service principal must exist and be enabled now (its appId is the client id).
// Read per request, not remembered: an identity removed from the resource stops at once.
import type { Storage } from '../storage/storage.js';
import type { MachineIdentityRequest, MachineIdentityResolver, ResolvedMachineIdentity } from '../tokens/grants/machine-identity.js';
import { InvalidInputError } from '../errors.js';

function notAssigned(): InvalidInputError {
  return new InvalidInputError('KH_MACHINE_IDENTITY_NOT_FOUND', 'The managed identity is not assigned to this machine\'s resource.');
}

export class MachineIdentities implements MachineIdentityResolver {
  constructor(private readonly storage: Storage) {}

  async resolve(machineResourceId: string, request: MachineIdentityRequest): Promise<ResolvedMachineIdentity> {
    const row = await this.storage.read.armResources.byKey(machineResourceId.toLowerCase());
    const identity = row?.identity ? (JSON.parse(row.identity) as Record<string, unknown>) : undefined;
    if (!row || !identity) throw notAssigned();
    const candidates: { objectId: string; resourceId: string }[] = [];
    const type = String(identity['type'] ?? '').toLowerCase();
    if (type.includes('systemassigned') && typeof identity['principalId'] === 'string') {
      candidates.push({ objectId: identity['principalId'].toLowerCase(), resourceId: row.id });
    }
    const users = identity['userAssignedIdentities'];
    const userEntries = type.includes('userassigned') && typeof users === 'object' && users !== null ? Object.entries(users as Record<string, unknown>) : [];
    let match: { objectId: string; resourceId: string } | undefined;
    if (request.kind === 'system') {
      // As IMDS: the system-assigned identity; without one, the only user-assigned one (several
      // and none system-assigned is an error: the caller must say which).
      match = candidates[0];
      if (!match && userEntries.length === 1) {
        const [id, value] = userEntries[0]!;
        const principalId = (value as Record<string, unknown> | null)?.['principalId'];
        if (typeof principalId === 'string') match = { objectId: principalId.toLowerCase(), resourceId: id };
      }
    } else {
      for (const [id, value] of userEntries) {
        const v = (value ?? {}) as Record<string, unknown>;
        const principalId = typeof v['principalId'] === 'string' ? v['principalId'].toLowerCase() : undefined;
        const clientId = typeof v['clientId'] === 'string' ? v['clientId'].toLowerCase() : undefined;
        if (principalId === undefined) continue;
        if ((request.kind === 'resourceId' && id.toLowerCase() === request.value)
          || (request.kind === 'objectId' && principalId === request.value)
          || (request.kind === 'clientId' && clientId === request.value)) {
          match = { objectId: principalId, resourceId: id };
          break;
        }
      }
      // The system-assigned identity may be named by its own object or client id too.
      if (!match && request.kind === 'objectId') match = candidates.find((c) => c.objectId === request.value);
    }
    if (!match) throw notAssigned();
    const sp = await this.storage.read.servicePrincipals.byId(match.objectId);
    if (!sp || sp.account_enabled !== 1) throw notAssigned();
    if (request.kind === 'clientId' && sp.app_id.toLowerCase() !== request.value) throw notAssigned();
    return { objectId: sp.id, appId: sp.app_id, resourceId: match.resourceId };
  }
}
