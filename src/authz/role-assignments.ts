// Role assignments (Microsoft.Authorization/roleAssignments): a role definition granted to a
// user, group or service principal at a scope. Named by a GUID the client picks, as ARM has
// them; one role for one principal at one scope exists once (RoleAssignmentExists). The caller
// is authorized by the face (roleAssignments/write or /delete at the scope) before it asks;
// this checks the request itself and writes it with its audit record in one transaction.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { auditEvent, type Actor } from '../directory/directory-context.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { Tx } from '../storage/storage.js';
import type { Storage } from '../storage/storage.js';
import { isUniqueViolation } from '../storage/storage.js';
import type { ArmRoleAssignmentRow } from '../storage/repos/arm-rbac-repo.js';
import type { AssignmentEntry, AuthorizationIndex } from './authorization-index.js';
import { builtinRole, USER_ACCESS_ADMINISTRATOR } from './builtin-roles.js';
import { customRole } from './authorization-index.js';
import type { RoleDefinition } from './role-definition.js';
import { isAtOrBelow, scopeKey } from './scope.js';

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal';
const PRINCIPAL_TYPES: readonly PrincipalType[] = ['User', 'Group', 'ServicePrincipal'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RoleAssignment {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: PrincipalType;
  description: string | null;
  createdOn: string;
  updatedOn: string;
  createdBy: string;
  updatedBy: string;
}

export interface CreateAssignmentInput {
  /** The GUID the client named it by. */
  name: string;
  scope: string;
  /** A role definition id (`…/roleDefinitions/{guid}`) or bare GUID. */
  roleDefinitionId: unknown;
  principalId: unknown;
  principalType?: unknown;
  description?: unknown;
}

export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}

export function toAssignment(row: ArmRoleAssignmentRow): RoleAssignment {
  return {
    id: row.id,
    scope: row.scope,
    roleDefinitionId: row.role_definition_id,
    principalId: row.principal_id,
    principalType: row.principal_type as PrincipalType,
    description: row.description === '' ? null : row.description,
    createdOn: row.created_at,
    updatedOn: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}

/** The GUID at the end of a role definition id, or the GUID itself. */
export function roleDefinitionGuid(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 400) return undefined;
  const last = value.split('/').filter((s) => s !== '').pop() ?? '';
  if (!isGuid(last)) return undefined;
  if (value.includes('/') && !/\/providers\/Microsoft\.Authorization\/roleDefinitions\/[^/]+$/i.test(value)) return undefined;
  return last.toLowerCase();
}

export class RoleAssignments {
  constructor(
    private readonly deps: { storage: Storage; audit: AuditLog; index: AuthorizationIndex },
  ) {}

  async get(scope: string, name: string): Promise<RoleAssignment | undefined> {
    if (!isGuid(name)) return undefined;
    const row = await this.deps.storage.read.armRbac.assignment(name.toLowerCase());
    return row && row.scope_key === scopeKey(scope) ? toAssignment(row) : undefined;
  }

  async byId(name: string): Promise<RoleAssignment | undefined> {
    if (!isGuid(name)) return undefined;
    const row = await this.deps.storage.read.armRbac.assignment(name.toLowerCase());
    return row ? toAssignment(row) : undefined;
  }

  /**
   * Assignments ARM lists for a scope: those at it, above it and (unless atScope) below it,
   * from the index's current state. `principalIds`: only these principals (principalId eq,
   * assignedTo()).
   */
  async list(scope: string, options: { atScopeOnly?: boolean; principalIds?: readonly string[] } = {}): Promise<AssignmentEntry[]> {
    const snapshot = await this.deps.index.current();
    const key = scopeKey(scope);
    const ids = options.principalIds ? new Set(options.principalIds.map((p) => p.toLowerCase())) : undefined;
    const rows = snapshot.assignments.filter((a) => (isAtOrBelow(key, a.scopeKey) || (!options.atScopeOnly && isAtOrBelow(a.scopeKey, key))) && (!ids || ids.has(a.principalId)));
    return rows;
  }

  /** Full rows for a list (the index holds no descriptions or dates). */
  async expand(list: readonly { id: string }[]): Promise<RoleAssignment[]> {
    const out: RoleAssignment[] = [];
    for (const a of list) {
      const row = await this.deps.storage.read.armRbac.assignment(a.id);
      if (row) out.push(toAssignment(row));
    }
    return out;
  }

  /** Creates the assignment; an identical PUT of an existing one answers it unchanged (created: false). */
  async create(actor: Actor & { displayName: string }, input: CreateAssignmentInput): Promise<{ assignment: RoleAssignment; created: boolean }> {
    if (!isGuid(input.name)) throw new InvalidInputError('KH_ROLE_ASSIGNMENT_ID_INVALID', `The role assignment ID '${String(input.name).slice(0, 64)}' is not valid. The role assignment ID must be a GUID.`);
    const name = input.name.toLowerCase();
    const roleId = roleDefinitionGuid(input.roleDefinitionId);
    if (!roleId) throw new InvalidInputError('KH_ROLE_DEFINITION_ID_INVALID', 'The role definition ID is not valid: give /subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid} or the GUID.');
    if (!isGuid(input.principalId)) throw new InvalidInputError('KH_PRINCIPAL_ID_INVALID', 'The principalId must be the object id (a GUID) of a user, group or service principal.');
    const principalId = input.principalId.toLowerCase();
    if (input.principalType !== undefined && input.principalType !== null && !PRINCIPAL_TYPES.includes(input.principalType as PrincipalType)) {
      throw new InvalidInputError('KH_PRINCIPAL_TYPE_INVALID', `The principalType must be one of ${PRINCIPAL_TYPES.join(', ')}.`);
    }
    if (input.description !== undefined && input.description !== null && (typeof input.description !== 'string' || input.description.length > 2048)) {
      throw new InvalidInputError('KH_ARM_PROPERTY_INVALID', 'The description must be a string of at most 2048 characters.');
    }
    const key = scopeKey(input.scope);
    const now = new Date().toISOString();
    try {
      return await this.deps.audit.write(
        auditEvent(actor, 'roleAssignment.create', name, { scope: input.scope.slice(0, 400), roleDefinitionId: roleId, principalId }),
        async (tx) => {
          const role = await roleIn(tx, roleId);
          if (!role) throw new InvalidInputError('KH_ARM_ROLE_DEFINITION_MISSING', `The specified role definition with ID '${roleId}' does not exist.`);
          if (!role.assignableScopes.some((s) => isAtOrBelow(key, scopeKey(s)))) {
            throw new InvalidInputError('KH_ROLE_NOT_ASSIGNABLE_AT_SCOPE', `The role definition '${role.roleName}' cannot be assigned at scope '${input.scope}': it is not within its assignableScopes.`);
          }
          const actual = await principalTypeOf(tx, principalId);
          if (!actual) throw new InvalidInputError('KH_ARM_PRINCIPAL_NOT_FOUND', `Principal ${principalId} does not exist in the directory.`);
          if (input.principalType !== undefined && input.principalType !== null && input.principalType !== actual) {
            throw new InvalidInputError('KH_PRINCIPAL_TYPE_MISMATCH', `The PrincipalId '${principalId}' has type '${actual}', which is different from specified PrincipalType '${String(input.principalType)}'.`);
          }
          const existing = await tx.armRbac.assignment(name);
          if (existing) {
            if (existing.scope_key === key && existing.role_definition_id === roleId && existing.principal_id === principalId) return { assignment: toAssignment(existing), created: false };
            throw new ConflictError('KH_ROLE_ASSIGNMENT_UPDATE_NOT_PERMITTED', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
          }
          if (await tx.armRbac.findAssignment(key, roleId, principalId)) throw roleAssignmentExists();
          const row: ArmRoleAssignmentRow = {
            id: name,
            scope: canonicalScope(input.scope),
            scope_key: key,
            role_definition_id: roleId,
            principal_id: principalId,
            principal_type: actual,
            description: typeof input.description === 'string' ? input.description : '',
            created_at: now,
            updated_at: now,
            created_by: actor.id,
            updated_by: actor.id,
          };
          await tx.armRbac.insertAssignment(row);
          return { assignment: toAssignment(row), created: true };
        },
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw roleAssignmentExists();
      throw err;
    }
  }

  /** Deletes it; undefined if there was none (ARM answers 204). */
  async delete(actor: Actor, scope: string, name: string): Promise<RoleAssignment | undefined> {
    if (!isGuid(name)) return undefined;
    const id = name.toLowerCase();
    const key = scopeKey(scope);
    const current = await this.deps.storage.read.armRbac.assignment(id);
    if (!current || current.scope_key !== key) return undefined;
    return this.deps.audit.write(auditEvent(actor, 'roleAssignment.delete', id, { scope: current.scope.slice(0, 400), roleDefinitionId: current.role_definition_id, principalId: current.principal_id }), async (tx) => {
      const row = await tx.armRbac.assignment(id);
      if (!row || row.scope_key !== key) return undefined;
      await tx.armRbac.deleteAssignment(id);
      return toAssignment(row);
    });
  }

  /**
   * Entra's elevate access (POST /providers/Microsoft.Authorization/elevateAccess): a Global
   * Administrator gets User Access Administrator at the root scope `/`, so a server can never be
   * locked out of its own resources. The caller's directory role is checked by the face.
   */
  async elevate(actor: Actor): Promise<RoleAssignment> {
    const principalId = actor.id.toLowerCase();
    return this.deps.audit.write(auditEvent(actor, 'roleAssignment.elevateAccess', principalId, { roleDefinitionId: USER_ACCESS_ADMINISTRATOR, scope: '/' }), async (tx) => {
      const existing = await tx.armRbac.findAssignment('', USER_ACCESS_ADMINISTRATOR, principalId);
      if (existing) return toAssignment(existing);
      const now = new Date().toISOString();
      const row: ArmRoleAssignmentRow = {
        id: randomUUID(), scope: '/', scope_key: '', role_definition_id: USER_ACCESS_ADMINISTRATOR, principal_id: principalId,
        principal_type: (await principalTypeOf(tx, principalId)) ?? 'User', description: '', created_at: now, updated_at: now, created_by: actor.id, updated_by: actor.id,
      };
      await tx.armRbac.insertAssignment(row);
      return toAssignment(row);
    });
  }
}

function roleAssignmentExists(): ConflictError {
  return new ConflictError('KH_ROLE_ASSIGNMENT_EXISTS', 'The role assignment already exists.');
}

/** A scope as stored: no trailing slash (the root stays `/`). */
export function canonicalScope(scope: string): string {
  return scope === '/' ? '/' : scope.replace(/\/+$/, '');
}

export async function roleIn(tx: Pick<Tx, 'armRbac'>, id: string): Promise<RoleDefinition | undefined> {
  const builtin = builtinRole(id);
  if (builtin) return builtin;
  const row = await tx.armRbac.definition(id);
  return row ? customRole(row) : undefined;
}

export async function principalTypeOf(tx: Pick<Tx, 'users' | 'groups' | 'servicePrincipals'>, id: string): Promise<PrincipalType | undefined> {
  if (await tx.users.byId(id)) return 'User';
  if (await tx.groups.byId(id)) return 'Group';
  if (await tx.servicePrincipals.byId(id)) return 'ServicePrincipal';
  return undefined;
}
