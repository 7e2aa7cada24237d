// Membership as Graph reads it, for any directory object that can be a member (a user, a
// group, a service principal): `…/memberOf` (the groups it is directly in),
// `…/transitiveMemberOf` (directly or through nested groups) and `POST …/checkMemberGroups`
// (which of up to 20 given groups it is in, transitively). The answers are directoryObject
// collections (`#directoryObjects`), each entry carrying its `@odata.type`; $select picks among
// the properties of users, groups and service principals, as Graph allows on directoryObject.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { DirectoryAccess } from '../../directory/directory-access.js';
import type { DirectoryObject } from '../../directory/graph-objects.js';
import { GROUP_PROPERTIES } from '../../directory/groups.js';
import { parseSelect, project, type ListResult } from '../../directory/odata-query.js';
import { SERVICE_PRINCIPAL_PROPERTIES } from '../../directory/service-principals.js';
import { USER_PROPERTIES } from '../../directory/user-accounts.js';
import { accessOf, collection, contextUrl, type GraphDeps } from './graph-response.js';
import { CheckMemberGroups } from './graph-schemas.js';
import { NAVIGATION, NONE, odataParams } from './odata-params.js';

export const DIRECTORY_OBJECT_PROPERTIES: readonly string[] = [...new Set<string>([...USER_PROPERTIES, ...GROUP_PROPERTIES, ...SERVICE_PRINCIPAL_PROPERTIES])];

/** The object id behind the path's `:id`, or a 404 (the resolver throws the core's NotFound). */
export type ResolveMember = (access: DirectoryAccess, key: string) => Promise<string>;

type IdParams = { Params: { id: string } };

/** A page of directory objects, answered as Graph's directoryObjects collection with $select applied. */
export async function directoryObjects(
  deps: GraphDeps,
  request: FastifyRequest,
  list: (access: DirectoryAccess, options: ReturnType<typeof odataParams>['options']) => Promise<ListResult<DirectoryObject>>,
): Promise<Record<string, unknown>> {
  const params = odataParams(request, NAVIGATION);
  const select = parseSelect(params.options.select, DIRECTORY_OBJECT_PROPERTIES, 'microsoft.graph.directoryObject');
  const page = await list(await accessOf(deps, request), params.options);
  const projected: ListResult<Partial<DirectoryObject>> = { value: page.value.map((o) => project(o, select)) };
  if (page.nextSkipToken !== undefined) projected.nextSkipToken = page.nextSkipToken;
  return collection(deps, request, 'directoryObjects', params, projected);
}

export function membershipRoutes(app: FastifyInstance, deps: GraphDeps, prefix: string, resolve: ResolveMember): void {
  app.get<IdParams>(`${prefix}/memberOf`, async (request) =>
    directoryObjects(deps, request, async (access, options) => access.reader().memberOf(await resolve(access, request.params.id), options)),
  );

  app.get<IdParams>(`${prefix}/transitiveMemberOf`, async (request) =>
    directoryObjects(deps, request, async (access, options) => access.reader().transitiveMemberOf(await resolve(access, request.params.id), options)),
  );

  app.post<IdParams & { Body: Static<typeof CheckMemberGroups> }>(`${prefix}/checkMemberGroups`, { schema: { body: CheckMemberGroups } }, async (request) => {
    odataParams(request, NONE);
    const access = await accessOf(deps, request);
    const id = await resolve(access, request.params.id);
    const value = await access.reader().checkMemberGroups(id, request.body.groupIds);
    return { '@odata.context': contextUrl(deps, 'Collection(Edm.String)'), value };
  });
}
