// The directory's side of managed identities: a service principal of servicePrincipalType
// ManagedIdentity (Graph's /servicePrincipals lists it, as Entra does), made and removed inside
// the transaction of the resource that owns the identity (a user-assigned identity, or a
// machine or scale set's system-assigned one), so the two never disagree. Removing one also
// removes its role assignments on the management plane: a deleted identity holds no grant.
import type { ManagedIdentityPrincipals } from '../resources/providers/managed-identity.js';
import type { Tx } from '../storage/storage.js';
import { removeServicePrincipal, type ServicePrincipals } from './service-principals.js';

export function managedIdentityPrincipals(servicePrincipals: ServicePrincipals): ManagedIdentityPrincipals {
  return {
    async create(tx: Tx, principal: { id: string; appId: string; displayName: string }): Promise<void> {
      await servicePrincipals.insert(tx, { ...principal, enabled: true, type: 'ManagedIdentity' });
    },
    async remove(tx: Tx, id: string): Promise<void> {
      const row = await tx.servicePrincipals.byId(id);
      if (row && row.service_principal_type !== 'ManagedIdentity') return;
      await removeServicePrincipal(tx, id);
      await tx.armRbac.deleteAssignmentsOf(id);
    },
  };
}
