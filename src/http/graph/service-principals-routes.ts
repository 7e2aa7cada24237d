// /v1.0/servicePrincipals as Microsoft Graph has it: list, create for an application
// (`POST {appId}` → 201; a second one for the same appId is refused as Graph refuses it),
// read by object id (or appId, as Graph's servicePrincipals(appId='…')), update (PATCH → 204:
// accountEnabled false stops its sign-ins and its existing tokens at once), delete (204), and
// its memberOf / transitiveMemberOf / checkMemberGroups. An app-only caller reads service
// principals only with a role (Directory Readers or more), as in Entra.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { parseSelect, project } from '../../directory/odata-query.js';
import { SERVICE_PRINCIPAL_PROPERTIES } from '../../directory/service-principals.js';
import { accessOf, collection, created, entity, expectedVersion, type GraphDeps } from './graph-response.js';
import { ServicePrincipalCreate, ServicePrincipalUpdate, withoutAnnotations } from './graph-schemas.js';
import { membershipRoutes } from './membership-routes.js';
import { COLLECTION, ENTITY, NONE, odataParams } from './odata-params.js';

type SpParams = { Params: { id: string } };

export function servicePrincipalRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/servicePrincipals', async (request) => {
    const params = odataParams(request, COLLECTION);
    const page = await (await accessOf(deps, request)).reader().listServicePrincipals(params.options);
    return collection(deps, request, 'servicePrincipals', params, page);
  });

  app.post<{ Body: Static<typeof ServicePrincipalCreate> }>('/servicePrincipals', { schema: { body: ServicePrincipalCreate } }, async (request, reply) => {
    odataParams(request, NONE);
    const sp = await (await accessOf(deps, request)).applications().createServicePrincipal(withoutAnnotations(request.body));
    return created(deps, reply, 'servicePrincipals', sp);
  });

  app.get<SpParams>('/servicePrincipals/:id', async (request, reply) => {
    const { options } = odataParams(request, ENTITY);
    const select = parseSelect(options.select, SERVICE_PRINCIPAL_PROPERTIES, 'microsoft.graph.servicePrincipal');
    const sp = await (await accessOf(deps, request)).reader().getServicePrincipal(request.params.id);
    return entity(deps, reply, 'servicePrincipals/$entity', project(sp, select), select);
  });

  app.patch<SpParams & { Body: Static<typeof ServicePrincipalUpdate> }>(
    '/servicePrincipals/:id',
    { schema: { body: ServicePrincipalUpdate } },
    async (request, reply) => {
      odataParams(request, NONE);
      const version = expectedVersion(request);
      await (await accessOf(deps, request)).applications().updateServicePrincipal(request.params.id, withoutAnnotations(request.body), version);
      return reply.status(204).send();
    },
  );

  app.delete<SpParams>('/servicePrincipals/:id', async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).applications().deleteServicePrincipal(request.params.id);
    return reply.status(204).send();
  });

  membershipRoutes(app, deps, '/servicePrincipals/:id', async (access, key) => (await access.reader().getServicePrincipal(key)).id);
}
