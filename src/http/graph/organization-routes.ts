// /v1.0/organization: the tenant, minimally — its id (the tenant GUID every token carries as
// `tid`), a display name, and the host of the public URL as its one verified domain. Graph
// clients (az's `account show` and SDK samples) read the tenant id and default domain here.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../directory/directory-context.js';
import { accessOf, contextUrl, entity, type GraphDeps } from './graph-response.js';
import { NONE, odataParams } from './odata-params.js';

function organization(deps: GraphDeps) {
  return {
    id: deps.tenantId,
    displayName: 'Keyhaven',
    tenantType: 'AAD',
    verifiedDomains: [{ name: new URL(deps.publicUrl).hostname, type: 'Managed', isDefault: true, isInitial: true, capabilities: 'None' }],
  };
}

export function organizationRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/organization', async (request) => {
    odataParams(request, NONE);
    await accessOf(deps, request); // the caller must still exist and be enabled
    return { '@odata.context': contextUrl(deps, 'organization'), value: [organization(deps)] };
  });

  app.get<{ Params: { id: string } }>('/organization/:id', async (request, reply) => {
    odataParams(request, NONE);
    await accessOf(deps, request);
    if (request.params.id.toLowerCase() !== deps.tenantId.toLowerCase()) throw notFound('KH_GRAPH_ORGANIZATION_NOT_FOUND', request.params.id);
    return entity(deps, reply, 'organization/$entity', organization(deps));
  });
}
