// The one authorization evaluator every API uses (management now, the vault data plane
// later). It reads the current assignments (authorization-index.ts) and the directory's
// current memberships — never the groups or roles inside the caller's token — so a deleted
// assignment or a left group takes effect on the next request.
import { ForbiddenError } from '../errors.js';
import { AuthorizationIndex, type AssignmentEntry, type AuthorizationSnapshot } from './authorization-index.js';
import { applicableAssignments, evaluate, permissionsAt, type OperationKind } from './evaluator.js';
import type { RolePermission } from './role-definition.js';
import { isAtOrBelow, scopeKey } from './scope.js';

export interface Memberships {
  /** Every group the object is in, directly or through nesting, as the directory holds it now. */
  transitiveGroupsOf(id: string): Promise<ReadonlySet<string>>;
}

export class Authorizer {
  constructor(
    readonly index: AuthorizationIndex,
    private readonly memberships: Memberships,
  ) {}

  /** The principal and every group it is in now. */
  async principalIds(objectId: string): Promise<string[]> {
    const id = objectId.toLowerCase();
    return [id, ...(await this.memberships.transitiveGroupsOf(id))];
  }

  async can(objectId: string, operation: string, scope: string, kind: OperationKind = 'action'): Promise<boolean> {
    const snapshot = await this.index.current();
    return evaluate(snapshot, await this.principalIds(objectId), operation, scopeKey(scope), kind);
  }

  /** Throws ForbiddenError KH_AUTHORIZATION_FAILED (ARM's AuthorizationFailed) unless permitted. */
  async require(objectId: string, operation: string, scope: string, kind: OperationKind = 'action'): Promise<void> {
    if (await this.can(objectId, operation, scope, kind)) return;
    throw authorizationFailed(objectId, operation, scope);
  }

  /** A decision function for many targets (resource listings): one snapshot, one membership read. */
  async decider(objectId: string): Promise<(operation: string, scope: string, kind?: OperationKind) => boolean> {
    const snapshot = await this.index.current();
    const ids = await this.principalIds(objectId);
    return (operation, scope, kind = 'action') => evaluate(snapshot, ids, operation, scopeKey(scope), kind);
  }

  async permissions(objectId: string, scope: string): Promise<RolePermission[]> {
    const snapshot = await this.index.current();
    return permissionsAt(snapshot, await this.principalIds(objectId), scopeKey(scope));
  }

  /**
   * Whether any assignment of the caller lies at, above or below `scope` — what makes a
   * subscription appear in GET /subscriptions (a Reader of one resource group sees its
   * subscription, as in Azure).
   */
  async touches(objectId: string, scope: string): Promise<boolean> {
    const snapshot = await this.index.current();
    const key = scopeKey(scope);
    for (const id of await this.principalIds(objectId)) {
      for (const a of snapshot.byPrincipal.get(id) ?? []) if (isAtOrBelow(key, a.scopeKey) || isAtOrBelow(a.scopeKey, key)) return true;
    }
    return false;
  }

  async snapshot(): Promise<AuthorizationSnapshot> {
    return this.index.current();
  }

  async applicable(objectId: string, scope: string): Promise<AssignmentEntry[]> {
    return applicableAssignments(await this.index.current(), await this.principalIds(objectId), scopeKey(scope));
  }
}

export function authorizationFailed(objectId: string, operation: string, scope: string): ForbiddenError {
  return new ForbiddenError(
    'KH_AUTHORIZATION_FAILED',
    `The client with object id '${objectId}' does not have authorization to perform action '${operation}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    { detail: { action: operation, scope } },
  );
}

/**
 * ARM's 403 LinkedAuthorizationFailed: the caller may write the resource, but not perform an
 * operation the write needs on another scope it links to (assign/action on a user-assigned
 * identity it attaches), in the message ARM gives.
 */
export function linkedAuthorizationFailed(objectId: string, operation: string, scope: string, linked: readonly { operation: string; scope: string }[]): ForbiddenError {
  const operations = [...new Set(linked.map((l) => l.operation))].join(',');
  const scopes = linked.map((l) => l.scope).join(',');
  return new ForbiddenError(
    'KH_ARM_LINKED_AUTHORIZATION_FAILED',
    `The client '${objectId}' with object id '${objectId}' has permission to perform action '${operation}' on scope '${scope}'; however, it does not have permission to perform action(s) '${operations}' on the linked scope(s) '${scopes}' (respectively) or the linked scope(s) are invalid.`,
    { detail: { action: operations, scope: scopes.slice(0, 2000) } },
  );
}
