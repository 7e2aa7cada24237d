// /v1.0/applications as Microsoft Graph has it: list, create (201), read, update (PATCH → 204),
// delete (204), and the credential actions:
//   addPassword    → 200 passwordCredential; its secretText is in this answer only, never stored
//                    (the core keeps an HMAC) and never readable again — `no-store` keeps it out
//                    of caches on the way
//   removePassword {keyId} → 204
//   addKey         {keyCredential: {type: AsymmetricX509Cert, usage: Verify, key: base64 DER}} → 200 keyCredential
//   removeKey      {keyId} → 204
// Credential metadata (keyId, hint, dates, thumbprints) appears only for callers allowed to
// read it (Application Administrator, Global Administrator); a secret or digest never does.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { APPLICATION_PROPERTIES } from '../../directory/applications.js';
import { parseSelect, project } from '../../directory/odata-query.js';
import { accessOf, collection, contextUrl, created, entity, expectedVersion, type GraphDeps } from './graph-response.js';
import { AddKey, AddPassword, ApplicationCreate, ApplicationUpdate, RemoveCredential } from './graph-schemas.js';
import { COLLECTION, ENTITY, NONE, odataParams } from './odata-params.js';

type AppParams = { Params: { id: string } };

export function applicationRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/applications', async (request) => {
    const params = odataParams(request, COLLECTION);
    const page = await (await accessOf(deps, request)).reader().listApplications(params.options);
    return collection(deps, request, 'applications', params, page);
  });

  app.post<{ Body: Static<typeof ApplicationCreate> }>('/applications', { schema: { body: ApplicationCreate } }, async (request, reply) => {
    odataParams(request, NONE);
    const { displayName, web, publicClient, spa, isFallbackPublicClient } = request.body;
    const { application } = await (await accessOf(deps, request)).applications().create({
      displayName,
      ...(web !== undefined ? { web } : {}),
      ...(publicClient !== undefined ? { publicClient } : {}),
      ...(spa !== undefined ? { spa } : {}),
      ...(isFallbackPublicClient !== undefined ? { isFallbackPublicClient } : {}),
    });
    return created(deps, reply, 'applications', application);
  });

  app.get<AppParams>('/applications/:id', async (request, reply) => {
    const { options } = odataParams(request, ENTITY);
    const select = parseSelect(options.select, APPLICATION_PROPERTIES, 'microsoft.graph.application');
    const application = await (await accessOf(deps, request)).reader().getApplication(request.params.id);
    return entity(deps, reply, 'applications/$entity', project(application, select), select);
  });

  app.patch<AppParams & { Body: Static<typeof ApplicationUpdate> }>('/applications/:id', { schema: { body: ApplicationUpdate } }, async (request, reply) => {
    odataParams(request, NONE);
    const version = expectedVersion(request);
    const { displayName, web, publicClient, spa, isFallbackPublicClient } = request.body;
    const patch = {
      ...(displayName !== undefined ? { displayName } : {}),
      ...(web !== undefined ? { web } : {}),
      ...(publicClient !== undefined ? { publicClient } : {}),
      ...(spa !== undefined ? { spa } : {}),
      ...(isFallbackPublicClient !== undefined ? { isFallbackPublicClient } : {}),
    };
    await (await accessOf(deps, request)).applications().update(request.params.id, patch, version);
    return reply.status(204).send();
  });

  app.delete<AppParams>('/applications/:id', async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).applications().delete(request.params.id);
    return reply.status(204).send();
  });

  app.post<AppParams & { Body: Static<typeof AddPassword> }>('/applications/:id/addPassword', { schema: { body: AddPassword } }, async (request, reply) => {
    odataParams(request, NONE);
    const given = request.body?.passwordCredential ?? {};
    const input = {
      ...(given.displayName !== undefined ? { displayName: given.displayName } : {}),
      ...(given.startDateTime !== undefined ? { startDateTime: given.startDateTime } : {}),
      ...(given.endDateTime !== undefined ? { endDateTime: given.endDateTime } : {}),
    };
    const credential = await (await accessOf(deps, request)).applications().addPassword(request.params.id, input);
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return { '@odata.context': contextUrl(deps, 'microsoft.graph.passwordCredential'), ...credential };
  });

  app.post<AppParams & { Body: Static<typeof RemoveCredential> }>('/applications/:id/removePassword', { schema: { body: RemoveCredential } }, async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).applications().removePassword(request.params.id, request.body.keyId);
    return reply.status(204).send();
  });

  app.post<AppParams & { Body: Static<typeof AddKey> }>('/applications/:id/addKey', { schema: { body: AddKey } }, async (request) => {
    odataParams(request, NONE);
    const { key, displayName, startDateTime, endDateTime } = request.body.keyCredential;
    const credential = await (await accessOf(deps, request)).applications().addKey(request.params.id, {
      key,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(startDateTime !== undefined ? { startDateTime } : {}),
      ...(endDateTime !== undefined ? { endDateTime } : {}),
    });
    return { '@odata.context': contextUrl(deps, 'microsoft.graph.keyCredential'), ...credential };
  });

  app.post<AppParams & { Body: Static<typeof RemoveCredential> }>('/applications/:id/removeKey', { schema: { body: RemoveCredential } }, async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).applications().removeKey(request.params.id, request.body.keyId);
    return reply.status(204).send();
  });
}
