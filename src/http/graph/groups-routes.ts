// /v1.0/groups as Microsoft Graph has it for security groups: list, create (201), read,
// update (PATCH → 204), delete (204); members and transitiveMembers; adding a member with
// `POST /groups/{id}/members/$ref {"@odata.id": ".../directoryObjects/{id}"}` (204) and
// removing one with `DELETE /groups/{id}/members/{memberId}/$ref` (204); and the group's own
// memberOf / transitiveMemberOf / checkMemberGroups (groups nest). A duplicate member is
// Graph's 400 "One or more added object references already exist…"; a membership that would
// make nesting circular is refused (Entra refuses it as well).
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { ExtraAttributes } from '../../directory/extra-attributes.js';
import { GROUP_PROPERTIES } from '../../directory/groups.js';
import { isObjectId, parseSelect, project } from '../../directory/odata-query.js';
import { InvalidInputError } from '../../errors.js';
import { accessOf, collection, created, entity, expectedVersion, type GraphDeps } from './graph-response.js';
import { GroupCreate, GroupUpdate, MemberReference, withoutAnnotations } from './graph-schemas.js';
import { directoryObjects, membershipRoutes } from './membership-routes.js';
import { COLLECTION, ENTITY, NONE, odataParams } from './odata-params.js';

type GroupParams = { Params: { id: string } };

/**
 * The object id an `@odata.id` names. Graph takes a directoryObjects URL (the documented form)
 * and the typed ones; the host is not checked (Graph clients write graph.microsoft.com, the
 * CLI its own server), only the path's last two segments.
 */
export function referencedId(reference: string): string {
  const match = /(?:^|\/)(?:directoryObjects|users|groups|servicePrincipals)\/([0-9A-Fa-f-]{36})$/.exec(reference.trim());
  const id = match?.[1]?.toLowerCase();
  if (id === undefined || !isObjectId(id)) {
    throw new InvalidInputError('KH_GRAPH_REFERENCE_INVALID', "Invalid URL format specified in @odata.id: give …/directoryObjects/{object id}.");
  }
  return id;
}

export function groupRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/groups', async (request) => {
    const params = odataParams(request, COLLECTION);
    const page = await (await accessOf(deps, request)).reader().listGroups(params.options);
    return collection(deps, request, 'groups', params, page);
  });

  app.post<{ Body: Static<typeof GroupCreate> }>('/groups', { schema: { body: GroupCreate } }, async (request, reply) => {
    odataParams(request, NONE);
    const { keyhavenExtraAttributes, ...rest } = withoutAnnotations(request.body);
    const group = await (await accessOf(deps, request)).groups().create({
      ...rest,
      ...(keyhavenExtraAttributes !== undefined ? { keyhavenExtraAttributes: keyhavenExtraAttributes as ExtraAttributes } : {}),
    });
    return created(deps, reply, 'groups', group);
  });

  app.get<GroupParams>('/groups/:id', async (request, reply) => {
    const { options } = odataParams(request, ENTITY);
    const select = parseSelect(options.select, GROUP_PROPERTIES, 'microsoft.graph.group');
    const group = await (await accessOf(deps, request)).reader().getGroup(request.params.id);
    return entity(deps, reply, 'groups/$entity', project(group, select), select);
  });

  app.patch<GroupParams & { Body: Static<typeof GroupUpdate> }>('/groups/:id', { schema: { body: GroupUpdate } }, async (request, reply) => {
    odataParams(request, NONE);
    const version = expectedVersion(request);
    const { keyhavenExtraAttributes, ...rest } = withoutAnnotations(request.body);
    const patch = { ...rest, ...(keyhavenExtraAttributes !== undefined ? { keyhavenExtraAttributes: keyhavenExtraAttributes as ExtraAttributes } : {}) };
    await (await accessOf(deps, request)).groups().update(request.params.id, patch, version);
    return reply.status(204).send();
  });

  app.delete<GroupParams>('/groups/:id', async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).groups().delete(request.params.id);
    return reply.status(204).send();
  });

  app.get<GroupParams>('/groups/:id/members', async (request) =>
    directoryObjects(deps, request, (access, options) => access.reader().members(request.params.id, options)),
  );

  app.get<GroupParams>('/groups/:id/transitiveMembers', async (request) =>
    directoryObjects(deps, request, (access, options) => access.reader().transitiveMembers(request.params.id, options)),
  );

  app.post<GroupParams & { Body: Static<typeof MemberReference> }>('/groups/:id/members/$ref', { schema: { body: MemberReference } }, async (request, reply) => {
    odataParams(request, NONE);
    const memberId = referencedId(request.body['@odata.id']);
    await (await accessOf(deps, request)).groups().addMember(request.params.id, memberId);
    return reply.status(204).send();
  });

  app.delete<{ Params: { id: string; memberId: string } }>('/groups/:id/members/:memberId/$ref', async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).groups().removeMember(request.params.id, request.params.memberId);
    return reply.status(204).send();
  });

  membershipRoutes(app, deps, '/groups/:id', async (access, key) => (await access.reader().getGroup(key)).id);
}
