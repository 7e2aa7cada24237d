// Custom role definitions ("Azure custom roles"): a tenant's own roles, with actions,
// notActions, dataActions and notDataActions, assignable only at the scopes they list. Their
// names are unique in the tenant (built-in names included). The face authorizes the caller
// (roleDefinitions/write at each assignable scope) before asking.
import type { AuditLog } from '../audit/audit-log.js';
import { auditEvent, type Actor } from '../directory/directory-context.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { ArmRoleDefinitionRow } from '../storage/repos/arm-rbac-repo.js';
import { ACTION_SYNTAX } from './action-pattern.js';
import { customRole, type AuthorizationIndex } from './authorization-index.js';
import { BUILTIN_ROLES, builtinRole } from './builtin-roles.js';
import type { RoleDefinition, RolePermission } from './role-definition.js';
import { canonicalScope, isGuid } from './role-assignments.js';
import { isAtOrBelow, scopeKey } from './scope.js';

export interface CustomRoleInput {
  name: string;
  roleName?: unknown;
  description?: unknown;
  type?: unknown;
  permissions?: unknown;
  assignableScopes?: unknown;
}

const MAX_ACTIONS = 500;

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('KH_ROLE_DEFINITION_INVALID', message);
}

function actionList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_ACTIONS) throw invalid(`permissions.${field} must be an array of at most ${MAX_ACTIONS} action names.`);
  return value.map((a) => {
    if (typeof a !== 'string' || a.length > 400 || !ACTION_SYNTAX.test(a)) throw invalid(`permissions.${field} holds an invalid action '${String(a).slice(0, 80)}'.`);
    return a;
  });
}

export function parsePermissions(value: unknown): RolePermission[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10) throw invalid('permissions must be an array of 1 to 10 permission blocks.');
  return value.map((block) => {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw invalid('each permission block must be an object.');
    const b = block as Record<string, unknown>;
    return {
      actions: actionList(b['actions'], 'actions'),
      notActions: actionList(b['notActions'], 'notActions'),
      dataActions: actionList(b['dataActions'], 'dataActions'),
      notDataActions: actionList(b['notDataActions'], 'notDataActions'),
    };
  });
}

export class CustomRoles {
  constructor(private readonly deps: { storage: Storage; audit: AuditLog; index: AuthorizationIndex }) {}

  /** Built-in and custom roles visible at `scope`: built-ins everywhere, a custom role where it is assignable (at, above or below). */
  async list(scope: string): Promise<RoleDefinition[]> {
    const snapshot = await this.deps.index.current();
    const key = scopeKey(scope);
    return [...snapshot.definitions.values()].filter(
      (r) => r.roleType === 'BuiltInRole' || r.assignableScopes.some((s) => isAtOrBelow(key, scopeKey(s)) || isAtOrBelow(scopeKey(s), key)),
    );
  }

  async get(id: string): Promise<RoleDefinition | undefined> {
    if (!isGuid(id)) return undefined;
    return (await this.deps.index.current()).definitions.get(id.toLowerCase());
  }

  /** Validated input, before the face checks write permission at each assignable scope. */
  validate(input: CustomRoleInput, validScope: (scope: string) => boolean): { roleName: string; description: string; permissions: RolePermission[]; assignableScopes: string[] } {
    if (!isGuid(input.name)) throw invalid(`The role definition ID '${String(input.name).slice(0, 64)}' is not valid: it must be a GUID.`);
    if (builtinRole(input.name)) throw new ConflictError('KH_ROLE_DEFINITION_BUILT_IN', 'Built-in role definitions cannot be created, changed or deleted.');
    if (input.type !== undefined && input.type !== null && input.type !== 'CustomRole') throw invalid("A role definition's type must be 'CustomRole'.");
    if (typeof input.roleName !== 'string' || input.roleName.trim() === '' || input.roleName.length > 512) throw invalid('roleName must be a non-empty string of at most 512 characters.');
    if (input.description !== undefined && input.description !== null && (typeof input.description !== 'string' || input.description.length > 2048)) throw invalid('description must be a string of at most 2048 characters.');
    const permissions = parsePermissions(input.permissions);
    if (!Array.isArray(input.assignableScopes) || input.assignableScopes.length === 0 || input.assignableScopes.length > 50) throw invalid('assignableScopes must list 1 to 50 scopes.');
    const assignableScopes = input.assignableScopes.map((s) => {
      // Only built-in roles are assignable at the root: a custom role names subscriptions, groups or resources.
      if (typeof s !== 'string' || s === '/' || !validScope(s)) throw invalid(`The assignable scope '${String(s).slice(0, 200)}' is not a valid subscription, resource group or resource id.`);
      return canonicalScope(s);
    });
    return { roleName: input.roleName.trim(), description: typeof input.description === 'string' ? input.description : '', permissions, assignableScopes };
  }

  async put(actor: Actor, id: string, role: ReturnType<CustomRoles['validate']>): Promise<{ role: RoleDefinition; created: boolean }> {
    const roleId = id.toLowerCase();
    const now = new Date().toISOString();
    return this.deps.audit.write(auditEvent(actor, 'roleDefinition.put', roleId, { roleName: role.roleName.slice(0, 200) }), async (tx) => {
      const name = role.roleName.toLowerCase();
      if (BUILTIN_ROLES.some((r) => r.roleName.toLowerCase() === name)) throw sameName();
      const others = await tx.armRbac.allDefinitions();
      if (others.some((r) => r.id !== roleId && r.role_name.toLowerCase() === name)) throw sameName();
      const existing = others.find((r) => r.id === roleId);
      const row: ArmRoleDefinitionRow = {
        id: roleId,
        role_name: role.roleName,
        description: role.description,
        assignable_scopes: JSON.stringify(role.assignableScopes),
        permissions: JSON.stringify(role.permissions),
        created_at: existing?.created_at ?? now,
        updated_at: now,
        created_by: existing?.created_by ?? actor.id,
        updated_by: actor.id,
      };
      await tx.armRbac.putDefinition(row);
      return { role: customRole(row), created: !existing };
    });
  }

  /** Deletes it; undefined if there was none. Refused while assignments use it (as Azure does). */
  async delete(actor: Actor, id: string): Promise<RoleDefinition | undefined> {
    if (!isGuid(id)) return undefined;
    const roleId = id.toLowerCase();
    if (builtinRole(roleId)) throw new ConflictError('KH_ROLE_DEFINITION_BUILT_IN', 'Built-in role definitions cannot be created, changed or deleted.');
    return this.deps.audit.write(auditEvent(actor, 'roleDefinition.delete', roleId), async (tx) => {
      const row = await tx.armRbac.definition(roleId);
      if (!row) return undefined;
      if ((await tx.armRbac.countAssignmentsOfDefinition(roleId)) > 0) {
        throw new ConflictError('KH_ROLE_DEFINITION_HAS_ASSIGNMENTS', 'There are existing role assignments referencing this role definition: delete them first.');
      }
      await tx.armRbac.deleteDefinition(roleId);
      return customRole(row);
    });
  }
}

function sameName(): ConflictError {
  return new ConflictError('KH_ROLE_DEFINITION_NAME_EXISTS', 'A role definition cannot be updated with a name that already exists.');
}
