// Graph's response envelope (OData JSON Format 4.01 §4.5, as Microsoft Graph uses it):
//   a collection  { "@odata.context": ".../$metadata#users", "@odata.nextLink"?: "...", "value": [...] }
//   one object    { "@odata.context": ".../$metadata#users/$entity", ...properties }
// A $select narrows the context to `#users(id,displayName)`. @odata.nextLink repeats the
// request's own query options with the next $skiptoken, under the server's public URL, so a
// client follows it as it is (the CLI refuses to follow one outside the server).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DirectoryAccess } from '../../directory/directory-access.js';
import type { DirectoryService } from '../../directory/directory-service.js';
import { parseEtag, type ListResult } from '../../directory/odata-query.js';
import { UnauthenticatedError } from '../../errors.js';
import { nextQuery, selectedNames, type ODataParams } from './odata-params.js';

export const GRAPH_VERSION_PATH = '/graph/v1.0';

/** What every route module receives. */
export interface GraphDeps {
  directory: DirectoryService;
  /** normalised: scheme, host, port, no trailing slash */
  publicUrl: string;
  tenantId: string;
}

/** The caller's directory access for this request: its current roles, never the token's claims. */
export function accessOf(deps: GraphDeps, request: FastifyRequest): Promise<DirectoryAccess> {
  const principal = request.principal;
  if (!principal) throw new UnauthenticatedError('KH_GRAPH_TOKEN_MISSING', 'Access token is empty.');
  return deps.directory.access({ id: principal.objectId, source: request.ip, correlationId: request.id });
}

export function contextUrl(deps: GraphDeps, fragment: string, select?: string | readonly string[]): string {
  const names = selectedNames(select);
  const narrowed = names === undefined ? fragment : fragment.replace(/^([^/]+)/, `$1(${names.join(',')})`);
  return `${deps.publicUrl}${GRAPH_VERSION_PATH}/$metadata#${narrowed}`;
}

export function collection<T>(deps: GraphDeps, request: FastifyRequest, entitySet: string, params: ODataParams, result: ListResult<T>): Record<string, unknown> {
  const body: Record<string, unknown> = { '@odata.context': contextUrl(deps, entitySet, params.options.select) };
  if (result.nextSkipToken !== undefined) {
    const path = request.url.split('?')[0]!;
    body['@odata.nextLink'] = `${deps.publicUrl}${path}?${nextQuery(params.given, result.nextSkipToken)}`;
  }
  body.value = result.value;
  return body;
}

/** One object; `fragment` is e.g. `users/$entity`. Sends its @odata.etag as the ETag header too. */
export function entity(deps: GraphDeps, reply: FastifyReply, fragment: string, object: object, select?: string | readonly string[]): Record<string, unknown> {
  const etag = (object as { '@odata.etag'?: unknown })['@odata.etag'];
  if (typeof etag === 'string') void reply.header('etag', etag);
  return { '@odata.context': contextUrl(deps, fragment, select), ...object };
}

/** If-Match makes a PATCH conditional (RFC 9110 §13.1.1); `*` matches any version. */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const ifMatch = request.headers['if-match'];
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  return parseEtag(ifMatch);
}

/** Graph's 201 for a creation: the new object, and where it lives. */
export function created(deps: GraphDeps, reply: FastifyReply, entitySet: string, object: { id: string }): Record<string, unknown> {
  void reply.status(201).header('location', `${deps.publicUrl}${GRAPH_VERSION_PATH}/${entitySet}/${object.id}`);
  return entity(deps, reply, `${entitySet}/$entity`, object);
}
