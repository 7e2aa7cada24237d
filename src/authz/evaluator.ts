// Azure RBAC's decision ("How Azure RBAC determines if a user has access to a resource"),
// deny by default: the caller may perform an operation at a target when some role assigned
// to it — directly, or to a group it is in, transitively — at the target or a scope above it
// has a permission block whose actions (dataActions for a data operation) match the operation
// and whose notActions (notDataActions) do not. notActions only subtract within their own
// block: they are not deny rules, so another role may still grant what one role excludes.
// Control-plane actions never grant data actions (Owner's `*` reads no secret), nor the reverse.
import { permits } from './action-pattern.js';
import type { AssignmentEntry, AuthorizationSnapshot } from './authorization-index.js';
import type { RoleDefinition, RolePermission } from './role-definition.js';
import { isAtOrBelow } from './scope.js';

export type OperationKind = 'action' | 'dataAction';

/** The assignments of any of `principalIds` whose scope covers `targetKey` (a scopeKey()). */
export function applicableAssignments(snapshot: AuthorizationSnapshot, principalIds: Iterable<string>, targetKey: string): AssignmentEntry[] {
  const out: AssignmentEntry[] = [];
  for (const id of principalIds) {
    for (const a of snapshot.byPrincipal.get(id) ?? []) if (isAtOrBelow(targetKey, a.scopeKey)) out.push(a);
  }
  return out;
}

export function blockPermits(block: RolePermission, operation: string, kind: OperationKind): boolean {
  return kind === 'action' ? permits(block.actions, block.notActions, operation) : permits(block.dataActions, block.notDataActions, operation);
}

export function rolePermits(role: RoleDefinition, operation: string, kind: OperationKind): boolean {
  return role.permissions.some((block) => blockPermits(block, operation, kind));
}

export function evaluate(snapshot: AuthorizationSnapshot, principalIds: Iterable<string>, operation: string, targetKey: string, kind: OperationKind = 'action'): boolean {
  for (const a of applicableAssignments(snapshot, principalIds, targetKey)) {
    const role = snapshot.definitions.get(a.roleDefinitionId);
    // An assignment whose custom role was deleted grants nothing.
    if (role && rolePermits(role, operation, kind)) return true;
  }
  return false;
}

/** The permission blocks of every role that applies at the target (Microsoft.Authorization/permissions). */
export function permissionsAt(snapshot: AuthorizationSnapshot, principalIds: Iterable<string>, targetKey: string): RolePermission[] {
  const out: RolePermission[] = [];
  const seen = new Set<string>();
  for (const a of applicableAssignments(snapshot, principalIds, targetKey)) {
    if (seen.has(a.roleDefinitionId)) continue;
    seen.add(a.roleDefinitionId);
    const role = snapshot.definitions.get(a.roleDefinitionId);
    if (role) out.push(...role.permissions);
  }
  return out;
}
