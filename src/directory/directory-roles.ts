// Directory role assignments, Graph's /roleManagement/directory/roleAssignments
// (unifiedRoleAssignment: roleDefinitionId, principalId, directoryScopeId). Principals are
// users and service principals. Entra's role-assignable groups are not modelled: a role held
// through a group would let a Groups Administrator grant any role by adding members, which is
// why Entra fences those groups off. Scopes are `/` (the directory) and, for roles that allow
// it (Application Administrator), `/{application object id}`: that one application only.
// Checks read the assignments at request time, never a token's claims (DESIGN.md).
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { RoleAssignmentRow } from '../storage/repos/role-assignment-repo.js';
import { auditEvent, notFound, nowIso, retryUniqueRace, type Actor, type DirectoryDeps } from './directory-context.js';
import { toGraphRoleAssignment, type GraphRoleAssignment } from './graph-objects.js';
import { assertNotLastGlobalAdmin } from './last-admin-guard.js';
import type { RowFilter } from '../storage/row-filter.js';
import { parseFilter, type FilterFields } from './odata-filter.js';
import { decodeIdToken, encodeIdToken, isObjectId, parseTop, type ListResult } from './odata-query.js';
import { GLOBAL_ADMINISTRATOR, roleDefinition, type DirectoryAction } from './role-definitions.js';

export interface AssignRoleInput {
  roleDefinitionId: string;
  principalId: string;
  /** Default `/`. */
  directoryScopeId?: string;
}

export interface RoleAssignmentListOptions {
  /** Graph's $filter for roleAssignments: only `eq` on these properties, joined by `and`. */
  filter?: string | undefined;
  principalId?: string | undefined;
  roleDefinitionId?: string | undefined;
  top?: number | string | undefined;
  skipToken?: string | undefined;
}

const ROLE_ASSIGNMENT_FILTER_FIELDS: FilterFields = {
  principalId: { column: 'principalId', type: 'id' },
  roleDefinitionId: { column: 'roleDefinitionId', type: 'id' },
  directoryScopeId: { column: 'directoryScopeId', type: 'string' },
};

/** The eq conditions of a roleAssignments $filter (Graph supports nothing else there). */
function roleAssignmentFilter(text: string): Record<string, string> {
  const conditions: Record<string, string> = {};
  const unsupported = () => new InvalidInputError('KH_ODATA_FILTER_INVALID', "Invalid filter clause: roleAssignments support only 'eq' on principalId, roleDefinitionId and directoryScopeId, joined by 'and'.");
  const visit = (node: RowFilter): void => {
    if (node.kind === 'and') return node.operands.forEach(visit);
    if (node.kind !== 'compare' || node.op !== 'eq' || typeof node.value !== 'string' || conditions[node.column] !== undefined) throw unsupported();
    conditions[node.column] = node.value;
  };
  visit(parseFilter(text, ROLE_ASSIGNMENT_FILTER_FIELDS));
  return conditions;
}

/** What a principal's assignments allow: tenant-wide actions, and actions per application. */
export interface Grants {
  actions: ReadonlySet<DirectoryAction>;
  appActions: ReadonlyMap<string, ReadonlySet<DirectoryAction>>;
  roleIds: ReadonlySet<string>;
}

export class DirectoryRoles {
  constructor(private readonly deps: DirectoryDeps) {}

  async get(id: string): Promise<GraphRoleAssignment> {
    const row = isObjectId(String(id).toLowerCase()) ? await this.deps.storage.read.roleAssignments.byId(String(id).toLowerCase()) : undefined;
    if (!row) throw notFound('KH_ROLE_ASSIGNMENT_NOT_FOUND', String(id));
    return toGraphRoleAssignment(row);
  }

  async list(options: RoleAssignmentListOptions = {}): Promise<ListResult<GraphRoleAssignment>> {
    const limit = parseTop(options.top);
    const filtered = options.filter === undefined ? {} : roleAssignmentFilter(options.filter);
    const rows = await this.deps.storage.read.roleAssignments.query({
      principalId: (options.principalId ?? filtered.principalId)?.toLowerCase(),
      roleDefinitionId: (options.roleDefinitionId ?? filtered.roleDefinitionId)?.toLowerCase(),
      directoryScopeId: filtered.directoryScopeId,
      afterId: decodeIdToken(options.skipToken),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const result: ListResult<GraphRoleAssignment> = { value: page.map(toGraphRoleAssignment) };
    if (rows.length > limit) result.nextSkipToken = encodeIdToken(page[page.length - 1]!.id);
    return result;
  }

  async assign(actor: Actor, input: AssignRoleInput): Promise<GraphRoleAssignment> {
    const role = roleDefinition(String(input?.roleDefinitionId ?? ''));
    if (!role) throw new NotFoundError('KH_ROLE_DEFINITION_NOT_FOUND', `The role definition '${String(input?.roleDefinitionId).slice(0, 64)}' does not exist.`);
    const principalId = String(input.principalId ?? '').toLowerCase();
    const scope = input.directoryScopeId ?? '/';
    const appScope = scope === '/' ? undefined : /^\/([0-9a-f-]{36})$/.exec(scope.toLowerCase())?.[1];
    if (scope !== '/' && (!role.keyhavenAppScopable || appScope === undefined || !isObjectId(appScope))) {
      throw new InvalidInputError('KH_ROLE_SCOPE_INVALID', `directoryScopeId must be '/'${role.keyhavenAppScopable ? " or '/{application object id}'" : ''} for ${role.displayName}.`);
    }
    const directoryScopeId = appScope === undefined ? '/' : `/${appScope}`;
    const id = randomUUID();
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'role.assign', principalId, { roleDefinitionId: role.id, directoryScopeId, assignmentId: id }), async (tx) => {
        const isUser = isObjectId(principalId) && (await tx.users.byId(principalId)) !== undefined;
        const isSp = !isUser && isObjectId(principalId) && (await tx.servicePrincipals.byId(principalId)) !== undefined;
        if (!isUser && !isSp) {
          if (isObjectId(principalId) && (await tx.groups.byId(principalId))) {
            throw new InvalidInputError('KH_ROLE_PRINCIPAL_INVALID', 'Directory roles are assigned to users and service principals, not groups.');
          }
          throw notFound('KH_PRINCIPAL_NOT_FOUND', principalId);
        }
        if (appScope !== undefined && !(await tx.applications.byId(appScope))) throw notFound('KH_APPLICATION_NOT_FOUND', appScope);
        if (await tx.roleAssignments.find(role.id, principalId, directoryScopeId)) {
          throw new ConflictError('KH_ROLE_ASSIGNMENT_EXISTS', 'A conflicting object with one or more of the specified property values is present in the directory: the principal already holds this role at this scope.');
        }
        const assignment: RoleAssignmentRow = { id, role_definition_id: role.id, principal_id: principalId, directory_scope_id: directoryScopeId, created_at: nowIso() };
        await tx.roleAssignments.insert(assignment);
        return assignment;
      }),
    );
    return toGraphRoleAssignment(row);
  }

  async remove(actor: Actor, assignmentId: string): Promise<void> {
    const id = String(assignmentId ?? '').toLowerCase();
    await this.deps.audit.write(auditEvent(actor, 'role.remove', id), async (tx) => {
      const row = isObjectId(id) ? await tx.roleAssignments.byId(id) : undefined;
      if (!row) throw notFound('KH_ROLE_ASSIGNMENT_NOT_FOUND', assignmentId);
      if (row.role_definition_id === GLOBAL_ADMINISTRATOR && row.directory_scope_id === '/') await assertNotLastGlobalAdmin(tx, row.principal_id);
      await tx.roleAssignments.delete(id);
    });
  }

  /** The principal's current grants: one indexed query, evaluated per request. */
  async grantsOf(principalId: string): Promise<Grants> {
    const rows = await this.deps.storage.read.roleAssignments.ofPrincipal(principalId);
    const actions = new Set<DirectoryAction>();
    const appActions = new Map<string, Set<DirectoryAction>>();
    const roleIds = new Set<string>();
    for (const row of rows) {
      const role = roleDefinition(row.role_definition_id);
      if (!role) continue;
      roleIds.add(role.id);
      if (row.directory_scope_id === '/') {
        for (const a of role.keyhavenActions) actions.add(a);
      } else {
        const appId = row.directory_scope_id.slice(1);
        const set = appActions.get(appId) ?? new Set<DirectoryAction>();
        for (const a of role.keyhavenActions) if (a === 'applications.write' || a === 'credentials.read') set.add(a);
        appActions.set(appId, set);
      }
    }
    return { actions, appActions, roleIds };
  }

  /** Whether the principal's assignments allow `action` (for one application, if given). */
  async can(principalId: string, action: DirectoryAction, applicationObjectId?: string): Promise<boolean> {
    const grants = await this.grantsOf(principalId);
    return grants.actions.has(action) || (applicationObjectId !== undefined && grants.appActions.get(applicationObjectId)?.has(action) === true);
  }
}
