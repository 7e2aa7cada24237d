// Microsoft.Authorization at any scope: …/providers/Microsoft.Authorization/{roleAssignments,
// roleDefinitions, permissions} and the tenant's elevateAccess. The scope is validated, the
// caller authorized for the operation at it, and only then is the scope's existence looked up
// (404 only for a caller who may act there).
import { authorizationFailed } from '../../authz/authorizer.js';
import { isGuid } from '../../authz/role-assignments.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import {
  ELEVATE_ACCESS_API_VERSIONS,
  PERMISSIONS_API_VERSIONS,
  ROLE_ASSIGNMENTS_API_VERSIONS,
  ROLE_DEFINITIONS_API_VERSIONS,
  checkApiVersion,
} from '../../resources/api-versions.js';
import { parseIdString, parseTarget, printable, targetId, type ResourceTarget } from '../../resources/resource-id.js';
import { badFilter, eqFilter, methodNotAllowed, type ArmCall, type ArmDeps } from './arm-context.js';
import { roleAssignmentJson, roleDefinitionJson } from './arm-shapes.js';

const OPS = {
  assignmentsRead: 'Microsoft.Authorization/roleAssignments/read',
  assignmentsWrite: 'Microsoft.Authorization/roleAssignments/write',
  assignmentsDelete: 'Microsoft.Authorization/roleAssignments/delete',
  definitionsWrite: 'Microsoft.Authorization/roleDefinitions/write',
  definitionsDelete: 'Microsoft.Authorization/roleDefinitions/delete',
  elevate: 'Microsoft.Authorization/elevateAccess/action',
};

async function requireScopeExists(deps: ArmDeps, target: ResourceTarget): Promise<void> {
  if (await deps.resources.exists(target)) return;
  if (target.kind === 'subscription') throw new NotFoundError('KH_ARM_SUBSCRIPTION_NOT_FOUND', `The subscription '${target.subscriptionId}' could not be found.`);
  if (target.kind === 'resourceGroup') throw new NotFoundError('KH_ARM_RESOURCE_GROUP_NOT_FOUND', `Resource group '${printable(target.resourceGroup)}' could not be found.`);
  throw new NotFoundError('KH_ARM_RESOURCE_NOT_FOUND', `The Resource '${printable(targetId(target))}' was not found.`);
}

/** `scopeSegments` + /providers/Microsoft.Authorization/ + `rest`. */
export async function authorizationProvider(deps: ArmDeps, call: ArmCall, scopeSegments: string[], rest: string[]): Promise<unknown> {
  const target = parseTarget(scopeSegments);
  const scope = targetId(target);
  const kind = rest[0]?.toLowerCase();
  if (kind === 'roleassignments' && rest.length <= 2) return roleAssignments(deps, call, target, scope, rest[1]);
  if (kind === 'roledefinitions' && rest.length <= 2) return roleDefinitions(deps, call, target, scope, rest[1]);
  if (kind === 'permissions' && rest.length === 1) {
    if (call.request.method !== 'GET') methodNotAllowed(call.request.method);
    checkApiVersion(call.query['api-version'], PERMISSIONS_API_VERSIONS, 'permissions', true);
    const perms = await deps.authorizer.permissions(call.principal.objectId, scope);
    if (perms.length > 0) await requireScopeExists(deps, target);
    return { value: perms.map((p) => ({ actions: p.actions, notActions: p.notActions, dataActions: p.dataActions, notDataActions: p.notDataActions })) };
  }
  if (kind === 'elevateaccess' && rest.length === 1 && target.kind === 'root') return elevateAccess(deps, call);
  throw new NotFoundError('KH_ARM_NO_SUCH_PATH', `No route for '${printable(call.request.url.split('?')[0]!)}'.`);
}

/**
 * POST /providers/Microsoft.Authorization/elevateAccess: a Global Administrator (read from
 * the directory now, never from the token) becomes User Access Administrator at `/`.
 */
async function elevateAccess(deps: ArmDeps, call: ArmCall): Promise<unknown> {
  if (call.request.method !== 'POST') methodNotAllowed(call.request.method);
  checkApiVersion(call.query['api-version'], ELEVATE_ACCESS_API_VERSIONS, 'elevateAccess', true);
  if (!(await deps.isGlobalAdministrator(call.principal.objectId))) throw authorizationFailed(call.principal.objectId, OPS.elevate, '/');
  await deps.assignments.elevate(call.actor);
  call.reply.status(200);
  return '';
}

/** $filter on role assignments: atScope(), principalId eq '…', assignedTo('…'), joined by `and`. */
function assignmentFilter(text: unknown): { atScope: boolean; principalId?: string; assignedTo?: string } {
  const out: { atScope: boolean; principalId?: string; assignedTo?: string } = { atScope: false };
  if (text === undefined) return out;
  if (typeof text !== 'string' || text.length > 1024) throw badFilter();
  for (const clause of text.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(c)) out.atScope = true;
    else if ((m = /^principalId\s+eq\s+'([0-9a-fA-F-]{36})'$/i.exec(c))) out.principalId = m[1]!.toLowerCase();
    else if ((m = /^assignedTo\('([0-9a-fA-F-]{36})'\)$/i.exec(c))) out.assignedTo = m[1]!.toLowerCase();
    else throw badFilter();
  }
  return out;
}

async function roleAssignments(deps: ArmDeps, call: ArmCall, target: ResourceTarget, scope: string, name: string | undefined): Promise<unknown> {
  checkApiVersion(call.query['api-version'], ROLE_ASSIGNMENTS_API_VERSIONS, 'roleAssignments', true);
  const me = call.principal.objectId;
  const method = call.request.method;
  if (name === undefined) {
    if (method !== 'GET') methodNotAllowed(method);
    await deps.authorizer.require(me, OPS.assignmentsRead, scope);
    await requireScopeExists(deps, target);
    const filter = assignmentFilter(call.query['$filter']);
    let principalIds: string[] | undefined;
    if (filter.assignedTo) principalIds = await deps.authorizer.principalIds(filter.assignedTo);
    if (filter.principalId) principalIds = principalIds ? principalIds.filter((p) => p === filter.principalId) : [filter.principalId];
    const entries = await deps.assignments.list(scope, { atScopeOnly: filter.atScope, ...(principalIds ? { principalIds } : {}) });
    return { value: (await deps.assignments.expand(entries)).map(roleAssignmentJson) };
  }
  if (method === 'GET') {
    await deps.authorizer.require(me, OPS.assignmentsRead, scope);
    const found = await deps.assignments.get(scope, name);
    if (!found) throw new NotFoundError('KH_ARM_ROLE_ASSIGNMENT_NOT_FOUND', `The role assignment '${printable(name)}' is not found.`);
    return roleAssignmentJson(found);
  }
  if (method === 'PUT') {
    await deps.authorizer.require(me, OPS.assignmentsWrite, scope);
    await requireScopeExists(deps, target);
    const body = call.request.body as { properties?: Record<string, unknown> } | undefined;
    const props = body?.properties;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new InvalidInputError('KH_ARM_REQUEST_CONTENT_INVALID', 'The request body must be {"properties": {"roleDefinitionId", "principalId"}}.');
    // A scope in the body must be the URI's (InvalidCreateRoleAssignmentRequest).
    if (props['scope'] !== undefined && (typeof props['scope'] !== 'string' || targetId(parseIdString(props['scope'])).toLowerCase() !== scope.toLowerCase())) {
      throw new InvalidInputError('KH_ARM_SCOPE_MISMATCH', `The role assignment scope in the request body must match the scope specified on the URI '${printable(scope)}'.`);
    }
    const { assignment, created } = await deps.assignments.create(
      { ...call.actor, displayName: call.actor.name },
      { name, scope, roleDefinitionId: props['roleDefinitionId'], principalId: props['principalId'], principalType: props['principalType'], description: props['description'] },
    );
    call.reply.status(created ? 201 : 200);
    return roleAssignmentJson(assignment);
  }
  if (method === 'DELETE') {
    await deps.authorizer.require(me, OPS.assignmentsDelete, scope);
    const deleted = await deps.assignments.delete(call.actor, scope, name);
    if (!deleted) {
      call.reply.status(204);
      return '';
    }
    return roleAssignmentJson(deleted);
  }
  return methodNotAllowed(method);
}

async function roleDefinitions(deps: ArmDeps, call: ArmCall, target: ResourceTarget, scope: string, name: string | undefined): Promise<unknown> {
  checkApiVersion(call.query['api-version'], ROLE_DEFINITIONS_API_VERSIONS, 'roleDefinitions', true);
  const me = call.principal.objectId;
  const method = call.request.method;
  // Role definitions are readable by every signed-in principal (they hold no secret, and
  // az role assignment create looks a role up by name before it can be granted anything).
  if (name === undefined) {
    if (method !== 'GET') methodNotAllowed(method);
    const filter = eqFilter(call.query['$filter'], ['roleName', 'type']);
    const roles = (await deps.roles.list(scope)).filter(
      (r) => (filter['roleName'] === undefined || r.roleName.toLowerCase() === filter['roleName'].toLowerCase()) && (filter['type'] === undefined || r.roleType.toLowerCase() === filter['type'].toLowerCase()),
    );
    return { value: roles.map((r) => roleDefinitionJson(r, scope)) };
  }
  if (method === 'GET') {
    const role = await deps.roles.get(name);
    if (!role) throw new NotFoundError('KH_ARM_ROLE_DEFINITION_NOT_FOUND', `The role definition '${printable(name)}' does not exist.`);
    return roleDefinitionJson(role, scope);
  }
  if (method === 'PUT') {
    const body = call.request.body as { properties?: Record<string, unknown> } | undefined;
    const props = body?.properties;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new InvalidInputError('KH_ARM_REQUEST_CONTENT_INVALID', 'The request body must be {"properties": {"roleName", "permissions", "assignableScopes"}}.');
    const role = deps.roles.validate({ name, ...props, type: props['type'] }, (s) => {
      try {
        parseIdString(s);
        return true;
      } catch {
        return false;
      }
    });
    // Writing a role needs roleDefinitions/write at every scope it is assignable at (and at the URI's scope).
    for (const s of new Set([scope, ...role.assignableScopes])) await deps.authorizer.require(me, OPS.definitionsWrite, s);
    const existing = await deps.roles.get(name);
    if (existing?.roleType === 'CustomRole') for (const s of existing.assignableScopes) await deps.authorizer.require(me, OPS.definitionsWrite, s);
    for (const s of role.assignableScopes) await requireScopeExists(deps, parseIdString(s));
    const { role: saved, created } = await deps.roles.put(call.actor, name, role);
    call.reply.status(created ? 201 : 200);
    return roleDefinitionJson(saved, scope);
  }
  if (method === 'DELETE') {
    const existing = isGuid(name) ? await deps.roles.get(name) : undefined;
    if (!existing || existing.roleType !== 'CustomRole') {
      await deps.authorizer.require(me, OPS.definitionsDelete, scope);
      if (existing) await deps.roles.delete(call.actor, name);
      call.reply.status(204);
      return '';
    }
    for (const s of existing.assignableScopes) await deps.authorizer.require(me, OPS.definitionsDelete, s);
    const deleted = await deps.roles.delete(call.actor, name);
    if (!deleted) {
      call.reply.status(204);
      return '';
    }
    return roleDefinitionJson(deleted, scope);
  }
  return methodNotAllowed(method);
}

