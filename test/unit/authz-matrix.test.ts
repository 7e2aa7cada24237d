// The authorization matrix: principal kind × role × scope level × action / data action, each
// expected answer written by hand from Azure's published role definitions ("Azure built-in
// roles", learn.microsoft.com) — never computed by the evaluator under test. Covers inheritance
// (root → subscription → group → resource, never sideways or upwards), group membership direct
// and nested, a group the user is not in, service principals, notActions subtracting within
// their own role only, wildcards (`*`, `*/read`, `vaults/*/read` also naming `vaults/read`),
// actions never granting data actions, case-insensitive actions and scopes, and custom roles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationSnapshot, type AssignmentEntry } from '../../src/authz/authorization-index.js';
import { BUILTIN_ROLES } from '../../src/authz/builtin-roles.js';
import { evaluate } from '../../src/authz/evaluator.js';
import { permission, type RoleDefinition } from '../../src/authz/role-definition.js';
import { scopeKey } from '../../src/authz/scope.js';

const S = '/subscriptions/11111111-1111-4111-8111-111111111111';
const S2 = '/subscriptions/22222222-2222-4222-8222-222222222222';
const SCOPES: Record<string, string> = {
  ROOT: '/',
  SUB: S,
  SUB2: S2,
  RG: `${S}/resourceGroups/rg1`,
  RGUP: `${S}/resourceGroups/RG1`,
  RG2: `${S}/resourceGroups/rg2`,
  RG10: `${S}/resourceGroups/rg10`,
  VM: `${S}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1`,
  VM2: `${S}/resourceGroups/rg2/providers/Microsoft.Compute/virtualMachines/vm2`,
  VM10: `${S}/resourceGroups/rg10/providers/Microsoft.Compute/virtualMachines/vm1`,
  KV: `${S}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1`,
  SECRET: `${S}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1/secrets/db-password`,
  KV2: `${S}/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv2`,
  UAI: `${S}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
  SA: `${S}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1`,
  ACR: `${S}/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/acr1`,
  WS: `${S}/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1`,
  S2VM: `${S2}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1`,
};

const OPS: Record<string, string> = {
  VMR: 'Microsoft.Compute/virtualMachines/read',
  VMW: 'Microsoft.Compute/virtualMachines/write',
  VMD: 'Microsoft.Compute/virtualMachines/delete',
  VMSTART: 'Microsoft.Compute/virtualMachines/start/action',
  VMEXTR: 'Microsoft.Compute/virtualMachines/extensions/read',
  RGR: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  RGW: 'Microsoft.Resources/subscriptions/resourceGroups/write',
  RGD: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
  SUBR: 'Microsoft.Resources/subscriptions/read',
  RAR: 'Microsoft.Authorization/roleAssignments/read',
  RAW: 'Microsoft.Authorization/roleAssignments/write',
  RAD: 'Microsoft.Authorization/roleAssignments/delete',
  RDW: 'Microsoft.Authorization/roleDefinitions/write',
  LOCKW: 'Microsoft.Authorization/locks/write',
  ELEV: 'Microsoft.Authorization/elevateAccess/Action',
  GALSHARE: 'Microsoft.Compute/galleries/share/action',
  SUBCANCEL: 'Microsoft.Subscription/cancel/action',
  SUPPORT: 'Microsoft.Support/supportTickets/write',
  KVR: 'Microsoft.KeyVault/vaults/read',
  KVW: 'Microsoft.KeyVault/vaults/write',
  KVD: 'Microsoft.KeyVault/vaults/delete',
  KVSECRETR: 'Microsoft.KeyVault/vaults/secrets/read',
  SGET: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  SMETA: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  SSET: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  SDEL: 'Microsoft.KeyVault/vaults/secrets/delete',
  KEYR: 'Microsoft.KeyVault/vaults/keys/read',
  KEYENC: 'Microsoft.KeyVault/vaults/keys/encrypt/action',
  UAIR: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
  UAIW: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
  UAID: 'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
  UAIASSIGN: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
  FICR: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
  SAR: 'Microsoft.Storage/storageAccounts/read',
  LISTKEYS: 'Microsoft.Storage/storageAccounts/listKeys/action',
  REGEN: 'Microsoft.Storage/storageAccounts/regeneratekey/action',
  CONTR: 'Microsoft.Storage/storageAccounts/blobServices/containers/read',
  CONTW: 'Microsoft.Storage/storageAccounts/blobServices/containers/write',
  BLOBR: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  BLOBW: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
  BLOBD: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
  BLOBPERM: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/modifyPermissions/action',
  PULL: 'Microsoft.ContainerRegistry/registries/pull/read',
  PUSH: 'Microsoft.ContainerRegistry/registries/push/write',
  ACRD: 'Microsoft.ContainerRegistry/registries/delete',
  WSR: 'Microsoft.MachineLearningServices/workspaces/read',
  WSW: 'Microsoft.MachineLearningServices/workspaces/write',
  WSKEYS: 'Microsoft.MachineLearningServices/workspaces/listKeys/action',
  COMPR: 'Microsoft.MachineLearningServices/workspaces/computes/read',
  COMPW: 'Microsoft.MachineLearningServices/workspaces/computes/write',
  COMPD: 'Microsoft.MachineLearningServices/workspaces/computes/delete',
  COMPSTART: 'Microsoft.MachineLearningServices/workspaces/computes/start/action',
  JOBW: 'Microsoft.MachineLearningServices/workspaces/jobs/write',
  NBVM: 'Microsoft.MachineLearningServices/workspaces/notebooks/vm/read',
  VNETR: 'Microsoft.Network/virtualNetworks/read',
  LOGIN: 'Microsoft.Compute/virtualMachines/login/action',
  METRICS: 'Keyhaven.Server/metrics/read',
  ADMINLOGIN: 'Microsoft.Compute/virtualMachines/loginAsAdmin/action',
};

// Custom roles, as an admin would write them.
const CUSTOM: RoleDefinition[] = [
  { id: 'c0000000-0000-4000-8000-000000000001', roleName: 'VM Operator', description: '', roleType: 'CustomRole', assignableScopes: [S], permissions: [permission(['Microsoft.Compute/virtualMachines/*'], ['Microsoft.Compute/virtualMachines/delete'])] },
  { id: 'c0000000-0000-4000-8000-000000000002', roleName: 'Secret Keeper', description: '', roleType: 'CustomRole', assignableScopes: [S], permissions: [permission([], [], ['Microsoft.KeyVault/vaults/secrets/*'], ['Microsoft.KeyVault/vaults/secrets/delete'])] },
  { id: 'c0000000-0000-4000-8000-000000000003', roleName: 'Reader Except Storage', description: '', roleType: 'CustomRole', assignableScopes: [S], permissions: [permission(['*/read'], ['Microsoft.Storage/*'])] },
  { id: 'c0000000-0000-4000-8000-000000000004', roleName: 'Two Blocks', description: '', roleType: 'CustomRole', assignableScopes: [S], permissions: [permission(['Microsoft.Compute/*'], ['Microsoft.Compute/virtualMachines/delete']), permission(['Microsoft.Compute/virtualMachines/delete'])] },
  { id: 'c0000000-0000-4000-8000-000000000005', roleName: 'Puller', description: '', roleType: 'CustomRole', assignableScopes: [S], permissions: [permission(['microsoft.containerregistry/registries/PULL/read'])] },
];

// kind: U user assigned directly · G user through a group it is directly in · N through a
// group nested in the assigned group · S service principal · X a user whose group holds
// nothing (the assignment is to a group it is not in). at/target: SCOPES keys. op: OPS key,
// A = action, D = data action. The roles column may name two roles joined by '+'.
type Row = [kind: 'U' | 'G' | 'N' | 'S' | 'X', roles: string, at: string, target: string, op: string, plane: 'A' | 'D', expected: 'allow' | 'deny'];

const TABLE: Row[] = [
  // Owner: everything on the control plane, nothing on the data plane.
  ['U', 'Owner', 'SUB', 'VM', 'VMD', 'A', 'allow'],
  ['U', 'Owner', 'SUB', 'RG', 'RGD', 'A', 'allow'],
  ['U', 'Owner', 'SUB', 'SUB', 'RAW', 'A', 'allow'],
  ['G', 'Owner', 'RG', 'VM', 'RAW', 'A', 'allow'],
  ['N', 'Owner', 'RG', 'KV', 'KVD', 'A', 'allow'],
  ['S', 'Owner', 'SUB', 'SA', 'LISTKEYS', 'A', 'allow'],
  ['U', 'Owner', 'SUB', 'KV', 'SGET', 'D', 'deny'],
  ['U', 'Owner', 'SUB', 'SA', 'BLOBR', 'D', 'deny'],
  ['U', 'Owner', 'RG', 'SUB', 'SUBR', 'A', 'deny'],
  ['U', 'Owner', 'RG', 'RG2', 'RGR', 'A', 'deny'],
  ['U', 'Owner', 'SUB2', 'VM', 'VMR', 'A', 'deny'],
  ['X', 'Owner', 'SUB', 'VM', 'VMR', 'A', 'deny'],
  ['U', 'Owner', 'ROOT', 'S2VM', 'VMD', 'A', 'allow'],
  ['U', 'Owner', 'VM', 'RG', 'RGR', 'A', 'deny'],
  ['U', 'Owner', 'VM', 'VM', 'VMW', 'A', 'allow'],
  // Contributor: all but Microsoft.Authorization writes/deletes, elevateAccess and a few more.
  ['U', 'Contributor', 'SUB', 'VM', 'VMD', 'A', 'allow'],
  ['U', 'Contributor', 'SUB', 'RG', 'RGW', 'A', 'allow'],
  ['U', 'Contributor', 'SUB', 'SUB', 'RAW', 'A', 'deny'],
  ['U', 'Contributor', 'SUB', 'RG', 'RAD', 'A', 'deny'],
  ['G', 'Contributor', 'RG', 'RG', 'RDW', 'A', 'deny'],
  ['N', 'Contributor', 'RG', 'VM', 'LOCKW', 'A', 'deny'],
  ['S', 'Contributor', 'ROOT', 'ROOT', 'ELEV', 'A', 'deny'],
  ['U', 'Contributor', 'SUB', 'SUB', 'RAR', 'A', 'allow'],
  ['U', 'Contributor', 'SUB', 'SUB', 'GALSHARE', 'A', 'deny'],
  ['U', 'Contributor', 'SUB', 'SUB', 'SUBCANCEL', 'A', 'deny'],
  ['G', 'Contributor', 'RG', 'KV', 'KVW', 'A', 'allow'],
  ['G', 'Contributor', 'RG', 'KV', 'SGET', 'D', 'deny'],
  ['S', 'Contributor', 'RG', 'SA', 'LISTKEYS', 'A', 'allow'],
  ['S', 'Contributor', 'RG', 'SA', 'BLOBW', 'D', 'deny'],
  ['U', 'Contributor', 'RG', 'VM2', 'VMW', 'A', 'deny'],
  ['X', 'Contributor', 'RG', 'VM', 'VMW', 'A', 'deny'],
  ['N', 'Contributor', 'SUB', 'UAI', 'UAIASSIGN', 'A', 'allow'],
  // Reader: */read only.
  ['U', 'Reader', 'SUB', 'VM', 'VMR', 'A', 'allow'],
  ['U', 'Reader', 'SUB', 'VM', 'VMW', 'A', 'deny'],
  ['U', 'Reader', 'SUB', 'VM', 'VMSTART', 'A', 'deny'],
  ['G', 'Reader', 'RG', 'RG', 'RGR', 'A', 'allow'],
  ['G', 'Reader', 'RG', 'RG', 'RGD', 'A', 'deny'],
  ['N', 'Reader', 'RG', 'VM', 'RAR', 'A', 'allow'],
  ['S', 'Reader', 'SUB', 'SA', 'LISTKEYS', 'A', 'deny'],
  ['S', 'Reader', 'SUB', 'KV', 'SGET', 'D', 'deny'],
  ['U', 'Reader', 'SUB', 'KV', 'SMETA', 'D', 'deny'],
  ['U', 'Reader', 'RG', 'SUB', 'SUBR', 'A', 'deny'],
  ['U', 'Reader', 'RG', 'RG10', 'RGR', 'A', 'deny'],
  ['U', 'Reader', 'RG', 'VM10', 'VMR', 'A', 'deny'],
  ['U', 'Reader', 'RGUP', 'VM', 'VMR', 'A', 'allow'],
  ['X', 'Reader', 'SUB', 'VM', 'VMR', 'A', 'deny'],
  ['U', 'Reader', 'SUB', 'UAI', 'UAIR', 'A', 'allow'],
  // User Access Administrator: */read and all of Microsoft.Authorization.
  ['U', 'User Access Administrator', 'SUB', 'RG', 'RAW', 'A', 'allow'],
  ['U', 'User Access Administrator', 'SUB', 'VM', 'RAD', 'A', 'allow'],
  ['G', 'User Access Administrator', 'RG', 'RG', 'RDW', 'A', 'allow'],
  ['N', 'User Access Administrator', 'ROOT', 'ROOT', 'ELEV', 'A', 'allow'],
  ['S', 'User Access Administrator', 'SUB', 'VM', 'VMR', 'A', 'allow'],
  ['U', 'User Access Administrator', 'SUB', 'VM', 'VMW', 'A', 'deny'],
  ['U', 'User Access Administrator', 'SUB', 'SA', 'LISTKEYS', 'A', 'deny'],
  ['U', 'User Access Administrator', 'SUB', 'KV', 'SGET', 'D', 'deny'],
  ['U', 'User Access Administrator', 'RG', 'RG2', 'RAW', 'A', 'deny'],
  ['U', 'User Access Administrator', 'SUB', 'SUB', 'SUPPORT', 'A', 'allow'],
  // Role Based Access Control Administrator: assignments, */read, support — not definitions.
  ['U', 'Role Based Access Control Administrator', 'SUB', 'RG', 'RAW', 'A', 'allow'],
  ['G', 'Role Based Access Control Administrator', 'SUB', 'RG', 'RAD', 'A', 'allow'],
  ['N', 'Role Based Access Control Administrator', 'SUB', 'SUB', 'RDW', 'A', 'deny'],
  ['S', 'Role Based Access Control Administrator', 'SUB', 'VM', 'VMR', 'A', 'allow'],
  ['U', 'Role Based Access Control Administrator', 'SUB', 'VM', 'VMD', 'A', 'deny'],
  ['U', 'Role Based Access Control Administrator', 'ROOT', 'ROOT', 'ELEV', 'A', 'deny'],
  ['U', 'Role Based Access Control Administrator', 'SUB', 'SUB', 'SUPPORT', 'A', 'allow'],
  ['U', 'Role Based Access Control Administrator', 'RG', 'SUB', 'RAW', 'A', 'deny'],
  // Key Vault Administrator: all data actions on vaults; control-plane reads only.
  ['U', 'Key Vault Administrator', 'KV', 'KV', 'SGET', 'D', 'allow'],
  ['U', 'Key Vault Administrator', 'KV', 'KV', 'SSET', 'D', 'allow'],
  ['G', 'Key Vault Administrator', 'RG', 'KV', 'KEYENC', 'D', 'allow'],
  ['N', 'Key Vault Administrator', 'RG', 'KV', 'KVR', 'A', 'allow'],
  ['S', 'Key Vault Administrator', 'RG', 'KV', 'KVW', 'A', 'deny'],
  ['U', 'Key Vault Administrator', 'KV', 'KV', 'RAW', 'A', 'deny'],
  ['U', 'Key Vault Administrator', 'KV', 'KV2', 'SGET', 'D', 'deny'],
  ['U', 'Key Vault Administrator', 'KV', 'KV', 'SGET', 'A', 'deny'],
  ['U', 'Key Vault Administrator', 'KV', 'SA', 'BLOBR', 'D', 'deny'],
  ['U', 'Key Vault Administrator', 'RG', 'RG', 'RGR', 'A', 'allow'],
  // Key Vault Secrets Officer: vaults/secrets/* data actions.
  ['U', 'Key Vault Secrets Officer', 'KV', 'KV', 'SGET', 'D', 'allow'],
  ['U', 'Key Vault Secrets Officer', 'KV', 'KV', 'SSET', 'D', 'allow'],
  ['U', 'Key Vault Secrets Officer', 'KV', 'KV', 'SDEL', 'D', 'allow'],
  ['G', 'Key Vault Secrets Officer', 'KV', 'KV', 'KEYR', 'D', 'deny'],
  ['N', 'Key Vault Secrets Officer', 'KV', 'KV', 'KVR', 'A', 'allow'],
  ['S', 'Key Vault Secrets Officer', 'KV', 'KV', 'KVW', 'A', 'deny'],
  ['S', 'Key Vault Secrets Officer', 'RG', 'SECRET', 'SGET', 'D', 'allow'],
  ['U', 'Key Vault Secrets Officer', 'SECRET', 'KV', 'SGET', 'D', 'deny'],
  ['U', 'Key Vault Secrets Officer', 'KV', 'KV', 'RAW', 'A', 'deny'],
  ['X', 'Key Vault Secrets Officer', 'KV', 'KV', 'SGET', 'D', 'deny'],
  ['U', 'Key Vault Secrets Officer', 'KV', 'KV', 'KVSECRETR', 'A', 'allow'],
  // Key Vault Secrets User: read secret values and metadata, nothing else.
  ['U', 'Key Vault Secrets User', 'KV', 'KV', 'SGET', 'D', 'allow'],
  ['G', 'Key Vault Secrets User', 'KV', 'KV', 'SMETA', 'D', 'allow'],
  ['N', 'Key Vault Secrets User', 'RG', 'KV', 'SGET', 'D', 'allow'],
  ['S', 'Key Vault Secrets User', 'SUB', 'KV', 'SGET', 'D', 'allow'],
  ['U', 'Key Vault Secrets User', 'KV', 'KV', 'SSET', 'D', 'deny'],
  ['U', 'Key Vault Secrets User', 'KV', 'KV', 'SDEL', 'D', 'deny'],
  ['U', 'Key Vault Secrets User', 'KV', 'KV', 'KVR', 'A', 'deny'],
  ['U', 'Key Vault Secrets User', 'KV', 'KV', 'KEYR', 'D', 'deny'],
  ['U', 'Key Vault Secrets User', 'KV2', 'KV', 'SGET', 'D', 'deny'],
  ['X', 'Key Vault Secrets User', 'KV', 'KV', 'SGET', 'D', 'deny'],
  // Key Vault Reader: metadata, never values.
  ['U', 'Key Vault Reader', 'KV', 'KV', 'SMETA', 'D', 'allow'],
  ['U', 'Key Vault Reader', 'KV', 'KV', 'SGET', 'D', 'deny'],
  ['G', 'Key Vault Reader', 'KV', 'KV', 'KEYR', 'D', 'allow'],
  ['N', 'Key Vault Reader', 'KV', 'KV', 'KEYENC', 'D', 'deny'],
  ['S', 'Key Vault Reader', 'KV', 'KV', 'KVR', 'A', 'allow'],
  ['U', 'Key Vault Reader', 'KV', 'KV', 'KVW', 'A', 'deny'],
  ['U', 'Key Vault Reader', 'KV', 'KV', 'SSET', 'D', 'deny'],
  // Keyhaven Metrics Reader (Keyhaven's own role): GET /metrics at the root, nothing else.
  ['S', 'Keyhaven Metrics Reader', 'ROOT', 'ROOT', 'METRICS', 'A', 'allow'],
  ['S', 'Keyhaven Metrics Reader', 'ROOT', 'VM', 'VMR', 'A', 'deny'],
  ['S', 'Keyhaven Metrics Reader', 'SUB', 'ROOT', 'METRICS', 'A', 'deny'],
  ['U', 'Owner', 'SUB', 'ROOT', 'METRICS', 'A', 'deny'],
  ['U', 'Owner', 'ROOT', 'ROOT', 'METRICS', 'A', 'allow'],
  ['U', 'Reader', 'ROOT', 'ROOT', 'METRICS', 'A', 'allow'],
  // Managed Identity Operator: read and assign user-assigned identities.
  ['U', 'Managed Identity Operator', 'UAI', 'UAI', 'UAIR', 'A', 'allow'],
  ['U', 'Managed Identity Operator', 'UAI', 'UAI', 'UAIASSIGN', 'A', 'allow'],
  ['G', 'Managed Identity Operator', 'RG', 'UAI', 'UAIASSIGN', 'A', 'allow'],
  ['N', 'Managed Identity Operator', 'SUB', 'UAI', 'UAIASSIGN', 'A', 'allow'],
  ['S', 'Managed Identity Operator', 'UAI', 'UAI', 'UAIW', 'A', 'deny'],
  ['U', 'Managed Identity Operator', 'UAI', 'UAI', 'UAID', 'A', 'deny'],
  ['U', 'Managed Identity Operator', 'UAI', 'UAI', 'FICR', 'A', 'allow'],
  ['U', 'Managed Identity Operator', 'RG', 'RG', 'RGR', 'A', 'allow'],
  ['U', 'Managed Identity Operator', 'RG', 'VM', 'VMR', 'A', 'deny'],
  ['U', 'Managed Identity Operator', 'VM', 'UAI', 'UAIASSIGN', 'A', 'deny'],
  ['X', 'Managed Identity Operator', 'UAI', 'UAI', 'UAIASSIGN', 'A', 'deny'],
  // Managed Identity Contributor: create, read, update, delete — but not assign.
  ['U', 'Managed Identity Contributor', 'RG', 'UAI', 'UAIW', 'A', 'allow'],
  ['G', 'Managed Identity Contributor', 'RG', 'UAI', 'UAID', 'A', 'allow'],
  ['N', 'Managed Identity Contributor', 'RG', 'UAI', 'UAIR', 'A', 'allow'],
  ['S', 'Managed Identity Contributor', 'RG', 'UAI', 'UAIASSIGN', 'A', 'deny'],
  ['U', 'Managed Identity Contributor', 'RG', 'UAI', 'FICR', 'A', 'allow'],
  ['U', 'Managed Identity Contributor', 'RG', 'VM', 'VMW', 'A', 'deny'],
  // Storage Account Key Operator Service Role: list and regenerate keys only.
  ['U', 'Storage Account Key Operator Service Role', 'SA', 'SA', 'LISTKEYS', 'A', 'allow'],
  ['G', 'Storage Account Key Operator Service Role', 'RG', 'SA', 'REGEN', 'A', 'allow'],
  ['N', 'Storage Account Key Operator Service Role', 'SA', 'SA', 'SAR', 'A', 'deny'],
  ['S', 'Storage Account Key Operator Service Role', 'SA', 'SA', 'BLOBR', 'D', 'deny'],
  ['U', 'Storage Account Key Operator Service Role', 'SA', 'KV', 'LISTKEYS', 'A', 'deny'],
  // Storage Blob Data Reader.
  ['U', 'Storage Blob Data Reader', 'SA', 'SA', 'BLOBR', 'D', 'allow'],
  ['G', 'Storage Blob Data Reader', 'SA', 'SA', 'BLOBW', 'D', 'deny'],
  ['N', 'Storage Blob Data Reader', 'RG', 'SA', 'CONTR', 'A', 'allow'],
  ['S', 'Storage Blob Data Reader', 'SA', 'SA', 'LISTKEYS', 'A', 'deny'],
  ['U', 'Storage Blob Data Reader', 'SA', 'SA', 'BLOBR', 'A', 'deny'],
  ['U', 'Storage Blob Data Reader', 'SA', 'SA', 'CONTW', 'A', 'deny'],
  // Storage Blob Data Contributor.
  ['U', 'Storage Blob Data Contributor', 'SA', 'SA', 'BLOBR', 'D', 'allow'],
  ['G', 'Storage Blob Data Contributor', 'SA', 'SA', 'BLOBW', 'D', 'allow'],
  ['N', 'Storage Blob Data Contributor', 'SA', 'SA', 'BLOBD', 'D', 'allow'],
  ['S', 'Storage Blob Data Contributor', 'SA', 'SA', 'BLOBPERM', 'D', 'deny'],
  ['U', 'Storage Blob Data Contributor', 'SA', 'SA', 'CONTW', 'A', 'allow'],
  ['U', 'Storage Blob Data Contributor', 'SA', 'SA', 'SAR', 'A', 'deny'],
  ['U', 'Storage Blob Data Contributor', 'SA', 'SA', 'LISTKEYS', 'A', 'deny'],
  // AcrPull / AcrPush.
  ['U', 'AcrPull', 'ACR', 'ACR', 'PULL', 'A', 'allow'],
  ['G', 'AcrPull', 'RG', 'ACR', 'PULL', 'A', 'allow'],
  ['N', 'AcrPull', 'ACR', 'ACR', 'PUSH', 'A', 'deny'],
  ['S', 'AcrPull', 'SUB', 'ACR', 'PULL', 'A', 'allow'],
  ['S', 'AcrPull', 'ACR', 'ACR', 'ACRD', 'A', 'deny'],
  ['X', 'AcrPull', 'ACR', 'ACR', 'PULL', 'A', 'deny'],
  ['U', 'AcrPush', 'ACR', 'ACR', 'PUSH', 'A', 'allow'],
  ['G', 'AcrPush', 'ACR', 'ACR', 'PULL', 'A', 'allow'],
  ['N', 'AcrPush', 'ACR', 'ACR', 'ACRD', 'A', 'deny'],
  ['S', 'AcrPush', 'RG', 'ACR', 'PUSH', 'A', 'allow'],
  // AzureML Data Scientist: everything in a workspace except compute writes/deletes, keys and the workspace itself.
  ['U', 'AzureML Data Scientist', 'WS', 'WS', 'WSR', 'A', 'allow'],
  ['U', 'AzureML Data Scientist', 'WS', 'WS', 'JOBW', 'A', 'allow'],
  ['G', 'AzureML Data Scientist', 'WS', 'WS', 'WSW', 'A', 'deny'],
  ['N', 'AzureML Data Scientist', 'WS', 'WS', 'COMPW', 'A', 'deny'],
  ['S', 'AzureML Data Scientist', 'WS', 'WS', 'COMPD', 'A', 'deny'],
  ['U', 'AzureML Data Scientist', 'WS', 'WS', 'COMPR', 'A', 'allow'],
  ['U', 'AzureML Data Scientist', 'WS', 'WS', 'COMPSTART', 'A', 'allow'],
  ['U', 'AzureML Data Scientist', 'WS', 'WS', 'WSKEYS', 'A', 'deny'],
  ['U', 'AzureML Data Scientist', 'RG', 'WS', 'JOBW', 'A', 'allow'],
  ['U', 'AzureML Data Scientist', 'WS', 'VM', 'VMR', 'A', 'deny'],
  // AzureML Compute Operator: computes and notebook VMs only.
  ['U', 'AzureML Compute Operator', 'WS', 'WS', 'COMPW', 'A', 'allow'],
  ['G', 'AzureML Compute Operator', 'WS', 'WS', 'COMPD', 'A', 'allow'],
  ['N', 'AzureML Compute Operator', 'WS', 'WS', 'NBVM', 'A', 'allow'],
  ['S', 'AzureML Compute Operator', 'WS', 'WS', 'JOBW', 'A', 'deny'],
  ['U', 'AzureML Compute Operator', 'WS', 'WS', 'WSR', 'A', 'deny'],
  // Virtual Machine User Login / Administrator Login.
  ['U', 'Virtual Machine User Login', 'VM', 'VM', 'LOGIN', 'D', 'allow'],
  ['G', 'Virtual Machine User Login', 'RG', 'VM', 'LOGIN', 'D', 'allow'],
  ['N', 'Virtual Machine User Login', 'VM', 'VM', 'ADMINLOGIN', 'D', 'deny'],
  ['S', 'Virtual Machine User Login', 'VM', 'VM', 'VMR', 'A', 'allow'],
  ['U', 'Virtual Machine User Login', 'VM', 'VM', 'VMEXTR', 'A', 'allow'],
  ['U', 'Virtual Machine User Login', 'VM', 'VM', 'VMW', 'A', 'deny'],
  ['U', 'Virtual Machine User Login', 'RG', 'RG', 'VNETR', 'A', 'allow'],
  ['U', 'Virtual Machine User Login', 'VM', 'VM', 'LOGIN', 'A', 'deny'],
  ['U', 'Virtual Machine User Login', 'VM', 'VM2', 'LOGIN', 'D', 'deny'],
  ['X', 'Virtual Machine User Login', 'VM', 'VM', 'LOGIN', 'D', 'deny'],
  ['U', 'Virtual Machine Administrator Login', 'VM', 'VM', 'ADMINLOGIN', 'D', 'allow'],
  ['G', 'Virtual Machine Administrator Login', 'RG', 'VM', 'LOGIN', 'D', 'allow'],
  ['N', 'Virtual Machine Administrator Login', 'SUB', 'VM', 'ADMINLOGIN', 'D', 'allow'],
  ['S', 'Virtual Machine Administrator Login', 'VM', 'VM', 'VMD', 'A', 'deny'],
  ['U', 'Virtual Machine Administrator Login', 'VM10', 'VM', 'ADMINLOGIN', 'D', 'deny'],
  // Custom roles: their own actions and notActions, assigned like any role.
  ['U', 'VM Operator', 'RG', 'VM', 'VMW', 'A', 'allow'],
  ['U', 'VM Operator', 'RG', 'VM', 'VMSTART', 'A', 'allow'],
  ['U', 'VM Operator', 'RG', 'VM', 'VMD', 'A', 'deny'],
  ['G', 'VM Operator', 'RG', 'VM', 'VMR', 'A', 'allow'],
  ['N', 'VM Operator', 'RG', 'RG', 'RGR', 'A', 'deny'],
  ['S', 'VM Operator', 'SUB', 'VM2', 'VMSTART', 'A', 'allow'],
  ['X', 'VM Operator', 'RG', 'VM', 'VMW', 'A', 'deny'],
  ['U', 'Secret Keeper', 'KV', 'KV', 'SGET', 'D', 'allow'],
  ['G', 'Secret Keeper', 'KV', 'KV', 'SSET', 'D', 'allow'],
  ['N', 'Secret Keeper', 'KV', 'KV', 'SDEL', 'D', 'deny'],
  ['S', 'Secret Keeper', 'KV', 'KV', 'KEYR', 'D', 'deny'],
  ['U', 'Secret Keeper', 'KV', 'KV', 'KVR', 'A', 'deny'],
  ['U', 'Reader Except Storage', 'SUB', 'VM', 'VMR', 'A', 'allow'],
  ['U', 'Reader Except Storage', 'SUB', 'SA', 'SAR', 'A', 'deny'],
  ['G', 'Reader Except Storage', 'SUB', 'KV', 'KVR', 'A', 'allow'],
  ['N', 'Reader Except Storage', 'SUB', 'SA', 'CONTR', 'A', 'deny'],
  ['S', 'Reader Except Storage', 'SUB', 'VM', 'VMW', 'A', 'deny'],
  // A notAction subtracts only within its own permission block.
  ['U', 'Two Blocks', 'RG', 'VM', 'VMD', 'A', 'allow'],
  ['U', 'Two Blocks', 'RG', 'VM', 'VMW', 'A', 'allow'],
  ['U', 'Two Blocks', 'RG', 'KV', 'KVR', 'A', 'deny'],
  // Actions compare ignoring case.
  ['U', 'Puller', 'ACR', 'ACR', 'PULL', 'A', 'allow'],
  ['G', 'Puller', 'ACR', 'ACR', 'PUSH', 'A', 'deny'],
  // Two roles: one role's notActions never take away what another grants.
  ['U', 'VM Operator+Contributor', 'RG', 'VM', 'VMD', 'A', 'allow'],
  ['U', 'Reader+Key Vault Secrets User', 'RG', 'KV', 'SGET', 'D', 'allow'],
  ['U', 'Reader+Key Vault Secrets User', 'RG', 'KV', 'SSET', 'D', 'deny'],
  ['G', 'Reader+AcrPull', 'RG', 'ACR', 'PULL', 'A', 'allow'],
  ['G', 'Reader+AcrPull', 'RG', 'ACR', 'PUSH', 'A', 'deny'],
  ['N', 'Contributor+User Access Administrator', 'SUB', 'RG', 'RAW', 'A', 'allow'],
  ['N', 'Contributor+User Access Administrator', 'SUB', 'KV', 'SGET', 'D', 'deny'],
  ['S', 'Key Vault Reader+Key Vault Secrets User', 'KV', 'KV', 'SGET', 'D', 'allow'],
  ['S', 'Storage Blob Data Reader+Storage Account Key Operator Service Role', 'SA', 'SA', 'BLOBW', 'D', 'deny'],
  ['U', 'Managed Identity Contributor+Managed Identity Operator', 'UAI', 'UAI', 'UAIASSIGN', 'A', 'allow'],
  // Inheritance from the root and across the tree.
  ['U', 'Reader', 'ROOT', 'S2VM', 'VMR', 'A', 'allow'],
  ['G', 'Key Vault Secrets User', 'ROOT', 'KV2', 'SGET', 'D', 'allow'],
  ['N', 'AcrPush', 'SUB', 'ACR', 'PUSH', 'A', 'allow'],
  ['S', 'Contributor', 'SUB2', 'S2VM', 'VMD', 'A', 'allow'],
  ['S', 'Contributor', 'SUB2', 'VM', 'VMD', 'A', 'deny'],
  ['U', 'Storage Blob Data Contributor', 'RG', 'SA', 'BLOBW', 'D', 'allow'],
  ['U', 'Storage Blob Data Contributor', 'RG2', 'SA', 'BLOBW', 'D', 'deny'],
  ['G', 'Virtual Machine User Login', 'SUB', 'VM10', 'LOGIN', 'D', 'allow'],
  ['N', 'Owner', 'RG10', 'VM', 'VMR', 'A', 'deny'],
  ['X', 'Reader', 'ROOT', 'VM', 'VMR', 'A', 'deny'],
];

const ROLE_IDS = new Map([...BUILTIN_ROLES, ...CUSTOM].map((r) => [r.roleName, r.id]));
const USER = 'aaaaaaaa-0000-4000-8000-000000000001';
const SP = 'aaaaaaaa-0000-4000-8000-000000000002';
const GROUP = 'bbbbbbbb-0000-4000-8000-000000000001';
const NESTED = 'bbbbbbbb-0000-4000-8000-000000000002';
const OTHER_GROUP = 'bbbbbbbb-0000-4000-8000-000000000003';
// The directory: USER is in NESTED, NESTED is in GROUP; OTHER_GROUP has no members.
const GROUPS_OF: Record<string, string[]> = { G: [GROUP], N: [NESTED, GROUP], X: [], U: [], S: [] };

function decide([kind, roles, at, target, op, plane]: Row): boolean {
  const assignee = kind === 'U' ? USER : kind === 'S' ? SP : kind === 'X' ? OTHER_GROUP : GROUP;
  const scope = SCOPES[at]!;
  const assignments: AssignmentEntry[] = roles.split('+').map((name, i) => {
    const roleDefinitionId = ROLE_IDS.get(name);
    assert.ok(roleDefinitionId, `unknown role ${name}`);
    return { id: `${i}`, scope, scopeKey: scopeKey(scope), roleDefinitionId, principalId: assignee, principalType: kind === 'S' ? 'ServicePrincipal' : kind === 'U' ? 'User' : 'Group' };
  });
  const snapshot = new AuthorizationSnapshot(assignments, CUSTOM);
  const principal = kind === 'S' ? SP : USER;
  const operation = OPS[op];
  assert.ok(operation, `unknown op ${op}`);
  return evaluate(snapshot, [principal, ...GROUPS_OF[kind]!], operation, scopeKey(SCOPES[target]!), plane === 'A' ? 'action' : 'dataAction');
}

describe('authorization matrix (hand-written from Azure role definitions)', () => {
  it('has at least 200 cases, covering every built-in role and principal kind', () => {
    assert.ok(TABLE.length >= 200, `${TABLE.length} cases`);
    const used = new Set(TABLE.flatMap((r) => r[1].split('+')));
    for (const role of BUILTIN_ROLES) assert.ok(used.has(role.roleName), `no case for ${role.roleName}`);
    for (const kind of ['U', 'G', 'N', 'S', 'X']) assert.ok(TABLE.some((r) => r[0] === kind), kind);
  });

  it('decides every case as written', () => {
    const wrong = TABLE.filter((row) => (decide(row) ? 'allow' : 'deny') !== row[6]).map((r) => r.join(' | '));
    assert.deepEqual(wrong, []);
  });

  it('denies by default: no assignment, no access', () => {
    const snapshot = new AuthorizationSnapshot([], CUSTOM);
    for (const op of Object.values(OPS)) assert.equal(evaluate(snapshot, [USER], op, scopeKey(SCOPES.VM!)), false);
  });
});
