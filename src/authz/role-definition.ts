// An Azure role definition (Microsoft.Authorization/roleDefinitions): what a role permits, as
// permission blocks of actions, notActions, dataActions and notDataActions, and the scopes it
// may be assigned at. Built-in roles (builtin-roles.ts) carry Azure's own names and ids.

export interface RolePermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  /** A GUID (lower case): the role definition's name in ARM. */
  id: string;
  roleName: string;
  description: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  permissions: RolePermission[];
  /** `/` for built-in roles; a custom role's subscriptions, groups or resources. */
  assignableScopes: string[];
  createdOn?: string;
  updatedOn?: string;
  createdBy?: string;
  updatedBy?: string;
}

export function permission(actions: string[], notActions: string[] = [], dataActions: string[] = [], notDataActions: string[] = []): RolePermission {
  return { actions, notActions, dataActions, notDataActions };
}
