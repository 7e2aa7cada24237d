// /v1.0/directoryObjects/{id}: any directory object by its object id — a user, a group, a
// service principal or an application — answered with its `@odata.type`, as Graph does; and
// its memberOf / transitiveMemberOf / checkMemberGroups (the form `az ad group member check`
// uses). Graph answers an id that is not a GUID with 400 "Invalid object identifier".
import type { FastifyInstance } from 'fastify';
import type { DirectoryReader } from '../../directory/directory-reader.js';
import { isObjectId } from '../../directory/odata-query.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import { notFound } from '../../directory/directory-context.js';
import { accessOf, entity, type GraphDeps } from './graph-response.js';
import { membershipRoutes } from './membership-routes.js';
import { NONE, odataParams } from './odata-params.js';

type Lookup = [type: string, get: (reader: DirectoryReader, id: string) => Promise<{ id: string }>];

const LOOKUPS: Lookup[] = [
  ['#microsoft.graph.user', (r, id) => r.getUser(id)],
  ['#microsoft.graph.group', (r, id) => r.getGroup(id)],
  ['#microsoft.graph.servicePrincipal', (r, id) => r.getServicePrincipal(id)],
  ['#microsoft.graph.application', (r, id) => r.getApplication(id)],
];

function objectId(key: string): string {
  const id = key.toLowerCase();
  if (!isObjectId(id)) {
    throw new InvalidInputError('KH_GRAPH_OBJECT_ID_INVALID', `Invalid object identifier '${key.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}'.`);
  }
  return id;
}

/** The object with this object id, whatever its type (an appId names no directory object here). */
export async function directoryObject(reader: DirectoryReader, key: string): Promise<Record<string, unknown>> {
  const id = objectId(key);
  for (const [type, get] of LOOKUPS) {
    try {
      const found = await get(reader, id);
      if (found.id === id) return { '@odata.type': type, ...found };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  throw notFound('KH_PRINCIPAL_NOT_FOUND', key);
}

export function directoryObjectRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get<{ Params: { id: string } }>('/directoryObjects/:id', async (request, reply) => {
    odataParams(request, NONE);
    const object = await directoryObject((await accessOf(deps, request)).reader(), request.params.id);
    return entity(deps, reply, 'directoryObjects/$entity', object);
  });

  membershipRoutes(app, deps, '/directoryObjects/:id', async (access, key) => {
    const object = await directoryObject(access.reader(), key);
    if (object['@odata.type'] === '#microsoft.graph.application') throw notFound('KH_PRINCIPAL_NOT_FOUND', key);
    return object.id as string;
  });
}
