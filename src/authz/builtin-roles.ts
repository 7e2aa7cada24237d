// The Azure built-in roles Keyhaven serves, under their real names and ids, with the
// permissions Azure publishes for them ("Azure built-in roles", learn.microsoft.com/azure/
// role-based-access-control/built-in-roles, the Privileged, Security, Identity, Storage,
// Containers, AI + machine learning and Compute pages). Actions of providers Keyhaven does not
// serve (Microsoft.Support, Microsoft.Insights …) are kept as Azure has them: a runbook that
// inspects a role sees the same JSON, and they match nothing here.
import { permission, type RoleDefinition } from './role-definition.js';

function builtin(id: string, roleName: string, description: string, perms: RoleDefinition['permissions']): RoleDefinition {
  return { id, roleName, description, roleType: 'BuiltInRole', permissions: perms, assignableScopes: ['/'] };
}

/** The read-only actions many data-plane roles share (Key Vault, Managed Identity roles). */
const KEY_VAULT_READ_ACTIONS = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
  'Microsoft.KeyVault/checkNameAvailability/read',
  'Microsoft.KeyVault/deletedVaults/read',
  'Microsoft.KeyVault/locations/*/read',
  'Microsoft.KeyVault/vaults/*/read',
  'Microsoft.KeyVault/operations/read',
];

export const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
export const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
export const USER_ACCESS_ADMINISTRATOR = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';
export const RBAC_ADMINISTRATOR = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';

/** Keyhaven's own (no Azure counterpart): reads the server's Prometheus metrics (GET /metrics). */
export const KEYHAVEN_METRICS_READER = 'a3f7e2c1-5b8d-4e6a-9c0f-1d2e3b4a5c6d';

export const BUILTIN_ROLES: readonly RoleDefinition[] = [
  builtin(KEYHAVEN_METRICS_READER, 'Keyhaven Metrics Reader', "Read the Keyhaven server's Prometheus metrics (GET /metrics): request, token, sign-in, LDAP, audit and process figures; no directory data.", [permission(['Keyhaven.Server/metrics/read'])]),
  builtin(OWNER, 'Owner', 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.', [permission(['*'])]),
  builtin(CONTRIBUTOR, 'Contributor', 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.', [
    permission(['*'], [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ]),
  ]),
  builtin(READER, 'Reader', 'View all resources, but does not allow you to make any changes.', [permission(['*/read'])]),
  builtin(USER_ACCESS_ADMINISTRATOR, 'User Access Administrator', 'Lets you manage user access to Azure resources.', [
    permission(['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*']),
  ]),
  // Azure attaches an ABAC condition to this role's assignments as the portal makes them
  // (constrained delegation); the definition itself carries none, and neither does Keyhaven's.
  builtin(RBAC_ADMINISTRATOR, 'Role Based Access Control Administrator', 'Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.', [
    permission(['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete', '*/read', 'Microsoft.Support/*']),
  ]),
  builtin('00482a5a-887f-4fb3-b363-3b7fe8e74483', 'Key Vault Administrator', "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.", [
    permission(KEY_VAULT_READ_ACTIONS, [], ['Microsoft.KeyVault/vaults/*']),
  ]),
  builtin('b86a8fe4-44ce-4948-aee5-eccb2c155cd7', 'Key Vault Secrets Officer', "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.", [
    permission(KEY_VAULT_READ_ACTIONS, [], ['Microsoft.KeyVault/vaults/secrets/*']),
  ]),
  builtin('4633458b-17de-408a-b874-0445c86b69e6', 'Key Vault Secrets User', "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.", [
    permission([], [], ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action']),
  ]),
  builtin('21090545-7ca7-4776-b22c-e363652d74d2', 'Key Vault Reader', "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. Only works for key vaults that use the 'Azure role-based access control' permission model.", [
    permission(KEY_VAULT_READ_ACTIONS, [], ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action']),
  ]),
  builtin('f1a07417-d97a-45cb-824c-7a7467783830', 'Managed Identity Operator', 'Read and Assign User Assigned Identity', [
    permission([
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ]),
  ]),
  builtin('e40ec5ca-96e0-45a2-b4ff-59039f2c2b59', 'Managed Identity Contributor', 'Create, Read, Update, and Delete User Assigned Identity', [
    permission([
      'Microsoft.ManagedIdentity/userAssignedIdentities/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
      'Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ]),
  ]),
  builtin('81a9662b-bebf-436f-a333-f67b29880f12', 'Storage Account Key Operator Service Role', 'Storage Account Key Operators are allowed to list and regenerate keys on Storage Accounts', [
    permission(['Microsoft.Storage/storageAccounts/listkeys/action', 'Microsoft.Storage/storageAccounts/regeneratekey/action']),
  ]),
  builtin('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', 'Storage Blob Data Reader', 'Allows for read access to Azure Storage blob containers and data', [
    permission(
      ['Microsoft.Storage/storageAccounts/blobServices/containers/read', 'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
      [],
      ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
    ),
  ]),
  builtin('ba92f5b4-2d11-453d-a403-e96b0029c9fe', 'Storage Blob Data Contributor', 'Allows for read, write and delete access to Azure Storage blob containers and data', [
    permission(
      [
        'Microsoft.Storage/storageAccounts/blobServices/containers/delete',
        'Microsoft.Storage/storageAccounts/blobServices/containers/read',
        'Microsoft.Storage/storageAccounts/blobServices/containers/write',
        'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
      ],
      [],
      [
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
      ],
    ),
  ]),
  builtin('7f951dda-4ed3-4680-a7ca-43fe172d538d', 'AcrPull', 'acr pull', [permission(['Microsoft.ContainerRegistry/registries/pull/read'])]),
  builtin('8311e382-0749-4cb8-b61a-304f252e45ec', 'AcrPush', 'acr push', [
    permission(['Microsoft.ContainerRegistry/registries/pull/read', 'Microsoft.ContainerRegistry/registries/push/write']),
  ]),
  builtin('f6c7c914-8db3-469d-8ca1-694a8f32e121', 'AzureML Data Scientist', 'Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.', [
    permission(
      [
        'Microsoft.MachineLearningServices/workspaces/*/read',
        'Microsoft.MachineLearningServices/workspaces/*/action',
        'Microsoft.MachineLearningServices/workspaces/*/delete',
        'Microsoft.MachineLearningServices/workspaces/*/write',
      ],
      [
        'Microsoft.MachineLearningServices/workspaces/delete',
        'Microsoft.MachineLearningServices/workspaces/write',
        'Microsoft.MachineLearningServices/workspaces/computes/*/write',
        'Microsoft.MachineLearningServices/workspaces/computes/*/delete',
        'Microsoft.MachineLearningServices/workspaces/computes/listKeys/action',
        'Microsoft.MachineLearningServices/workspaces/listKeys/action',
        'Microsoft.MachineLearningServices/workspaces/hubs/write',
        'Microsoft.MachineLearningServices/workspaces/hubs/delete',
        'Microsoft.MachineLearningServices/workspaces/featurestores/write',
        'Microsoft.MachineLearningServices/workspaces/featurestores/delete',
      ],
    ),
  ]),
  builtin('e503ece1-11d0-4e8e-8e2c-7a6c3bf38815', 'AzureML Compute Operator', 'Can access and perform CRUD operations on Machine Learning Services managed compute resources (including Notebook VMs).', [
    permission(['Microsoft.MachineLearningServices/workspaces/computes/*', 'Microsoft.MachineLearningServices/workspaces/notebooks/vm/*']),
  ]),
  builtin('fb879df8-f326-4884-b1cf-06f3ad86be52', 'Virtual Machine User Login', 'View Virtual Machines in the portal and login as a regular user.', [
    permission(
      [
        'Microsoft.Network/publicIPAddresses/read',
        'Microsoft.Network/virtualNetworks/read',
        'Microsoft.Network/loadBalancers/read',
        'Microsoft.Network/networkInterfaces/read',
        'Microsoft.Compute/virtualMachines/*/read',
        'Microsoft.HybridCompute/machines/*/read',
        'Microsoft.HybridConnectivity/endpoints/listCredentials/action',
      ],
      [],
      ['Microsoft.Compute/virtualMachines/login/action', 'Microsoft.HybridCompute/machines/login/action'],
    ),
  ]),
  builtin('1c0163c0-47e6-4577-8991-ea5c82e286e4', 'Virtual Machine Administrator Login', 'View Virtual Machines in the portal and login as administrator', [
    permission(
      [
        'Microsoft.Network/publicIPAddresses/read',
        'Microsoft.Network/virtualNetworks/read',
        'Microsoft.Network/loadBalancers/read',
        'Microsoft.Network/networkInterfaces/read',
        'Microsoft.Compute/virtualMachines/*/read',
        'Microsoft.HybridCompute/machines/*/read',
        'Microsoft.HybridConnectivity/endpoints/listCredentials/action',
      ],
      [],
      [
        'Microsoft.Compute/virtualMachines/login/action',
        'Microsoft.Compute/virtualMachines/loginAsAdmin/action',
        'Microsoft.HybridCompute/machines/login/action',
        'Microsoft.HybridCompute/machines/loginAsAdmin/action',
      ],
    ),
  ]),
];

const BY_ID = new Map(BUILTIN_ROLES.map((r) => [r.id, r]));

export function builtinRole(id: string): RoleDefinition | undefined {
  return BY_ID.get(id.toLowerCase());
}
