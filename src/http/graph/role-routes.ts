// /v1.0/roleManagement/directory: Entra's built-in directory roles (roleDefinitions, read-only)
// and their assignments (unifiedRoleAssignment: roleDefinitionId, principalId,
// directoryScopeId). Listing assignments takes the $filter Graph documents for it —
// `principalId eq '…'`, `roleDefinitionId eq '…'`, or both joined with `and` — and pages with
// $top/$skiptoken. Only Privileged Role Administrator or Global Administrator may assign in
// Entra; here Global Administrator (the core's roles.write).
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { notFound } from '../../directory/directory-context.js';
import type { RoleAssignmentListOptions } from '../../directory/directory-roles.js';
import { roleDefinition } from '../../directory/role-definitions.js';
import { assignmentFilter } from '../../directory/role-assignment-filter.js';
import { accessOf, collection, contextUrl, created, entity, type GraphDeps } from './graph-response.js';
import { RoleAssignmentCreate } from './graph-schemas.js';
import { NONE, odataParams } from './odata-params.js';

const BASE = '/roleManagement/directory';
const ASSIGNMENTS = 'roleManagement/directory/roleAssignments';

export function roleRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get(`${BASE}/roleDefinitions`, async (request) => {
    odataParams(request, NONE);
    const definitions = (await accessOf(deps, request)).reader().roleDefinitions();
    return { '@odata.context': contextUrl(deps, 'roleManagement/directory/roleDefinitions'), value: definitions };
  });

  app.get<{ Params: { id: string } }>(`${BASE}/roleDefinitions/:id`, async (request, reply) => {
    odataParams(request, NONE);
    (await accessOf(deps, request)).reader();
    const definition = roleDefinition(request.params.id);
    if (!definition) throw notFound('KH_ROLE_DEFINITION_NOT_FOUND', request.params.id);
    return entity(deps, reply, 'roleManagement/directory/roleDefinitions/$entity', definition);
  });

  app.get(`${BASE}/roleAssignments`, async (request) => {
    const params = odataParams(request, ['$filter', '$top', '$skiptoken']);
    const { filter, top, skipToken } = params.options;
    const options: RoleAssignmentListOptions = { ...(filter !== undefined ? assignmentFilter(filter) : {}) };
    if (top !== undefined) options.top = top as string;
    if (skipToken !== undefined) options.skipToken = skipToken;
    const page = await (await accessOf(deps, request)).reader().listRoleAssignments(options);
    return collection(deps, request, ASSIGNMENTS, params, page);
  });

  app.post<{ Body: Static<typeof RoleAssignmentCreate> }>(`${BASE}/roleAssignments`, { schema: { body: RoleAssignmentCreate } }, async (request, reply) => {
    odataParams(request, NONE);
    const { roleDefinitionId, principalId, directoryScopeId } = request.body;
    const assignment = await (await accessOf(deps, request)).roleAssignments().assign({
      roleDefinitionId,
      principalId,
      ...(directoryScopeId !== undefined ? { directoryScopeId } : {}),
    });
    return created(deps, reply, ASSIGNMENTS, assignment);
  });

  app.get<{ Params: { id: string } }>(`${BASE}/roleAssignments/:id`, async (request, reply) => {
    odataParams(request, NONE);
    const assignment = await (await accessOf(deps, request)).reader().getRoleAssignment(request.params.id);
    return entity(deps, reply, `${ASSIGNMENTS}/$entity`, assignment);
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/roleAssignments/:id`, async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).roleAssignments().remove(request.params.id);
    return reply.status(204).send();
  });
}
