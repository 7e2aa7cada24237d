// The JSON Azure Resource Manager answers with, for what the core returns.
import type { RoleAssignment } from '../../authz/role-assignments.js';
import type { RoleDefinition } from '../../authz/role-definition.js';
import { RESOURCE_GROUP_TYPE, type Subscription } from '../../resources/resource-manager.js';
import type { StoredResource } from '../../resources/resource-types.js';

export function resourceJson(r: StoredResource): Record<string, unknown> {
  if (r.type === RESOURCE_GROUP_TYPE) {
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      location: r.location,
      ...(typeof r.extra['managedBy'] === 'string' ? { managedBy: r.extra['managedBy'] } : {}),
      tags: r.tags,
      properties: { provisioningState: 'Succeeded' },
    };
  }
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    location: r.location,
    tags: r.tags,
    ...r.extra,
    ...(r.identity ? { identity: r.identity } : {}),
    properties: r.properties,
    etag: r.etag,
    systemData: r.systemData,
  };
}

/** A resource as GET …/resources lists it: the envelope without properties (ARM's default, no $expand). */
export function resourceListItem(r: StoredResource): Record<string, unknown> {
  const { properties: _p, systemData: _s, etag: _e, ...rest } = resourceJson(r);
  return rest;
}

/** A subscription as GET /subscriptions answers it (az login and az account list read these). */
export function subscriptionJson(s: Subscription, tenantId: string): Record<string, unknown> {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.subscriptionId,
    tenantId,
    homeTenantId: tenantId,
    displayName: s.displayName,
    state: s.state,
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'Keyhaven_2024-01-01', spendingLimit: 'Off' },
  };
}

export function tenantJson(tenantId: string, domain: string): Record<string, unknown> {
  return {
    id: `/tenants/${tenantId}`,
    tenantId,
    tenantCategory: 'Home',
    displayName: 'Keyhaven',
    defaultDomain: domain,
    domains: [domain],
    tenantType: 'AAD',
  };
}

/** `/subscriptions/{id}` for a scope within a subscription, '' for the root (the prefix of role definition ids). */
export function subscriptionPrefix(scope: string): string {
  const m = /^\/subscriptions\/([^/]+)/i.exec(scope);
  return m ? `/subscriptions/${m[1]!.toLowerCase()}` : '';
}

export function roleDefinitionJson(r: RoleDefinition, scope: string): Record<string, unknown> {
  return {
    id: `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${r.id}`,
    name: r.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: r.roleName,
      type: r.roleType,
      description: r.description,
      assignableScopes: r.assignableScopes,
      permissions: r.permissions.map((p) => ({ actions: p.actions, notActions: p.notActions, dataActions: p.dataActions, notDataActions: p.notDataActions })),
      createdOn: r.createdOn ?? null,
      updatedOn: r.updatedOn ?? null,
      createdBy: r.createdBy ?? null,
      updatedBy: r.updatedBy ?? null,
    },
  };
}

export function roleAssignmentJson(a: RoleAssignment): Record<string, unknown> {
  const base = a.scope === '/' ? '' : a.scope;
  return {
    id: `${base}/providers/Microsoft.Authorization/roleAssignments/${a.id}`,
    name: a.id,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: `${subscriptionPrefix(a.scope)}/providers/Microsoft.Authorization/roleDefinitions/${a.roleDefinitionId}`,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: null,
      conditionVersion: null,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: a.createdBy,
      updatedBy: a.updatedBy,
      delegatedManagedIdentityResourceId: null,
      description: a.description,
    },
  };
}
