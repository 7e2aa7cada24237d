// /v1.0/users as Microsoft Graph has it: list ($filter, $select, $top, $skiptoken), create
// (201 with the new user), read by object id or userPrincipalName, update (PATCH → 204) and
// delete (204), and the user's memberOf / transitiveMemberOf / checkMemberGroups. Any
// signed-in user may read users (Entra's default user permissions); writes need User
// Administrator or Global Administrator, checked by the core when the writer is handed out.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { UpdateUserInput } from '../../directory/user-accounts.js';
import { USER_PROPERTIES } from '../../directory/user-accounts.js';
import { parseSelect, project } from '../../directory/odata-query.js';
import type { ExtraAttributes } from '../../directory/extra-attributes.js';
import { accessOf, collection, contextUrl, created, entity, expectedVersion, type GraphDeps } from './graph-response.js';
import { UserCreate, UserUpdate, withoutAnnotations } from './graph-schemas.js';
import { membershipRoutes } from './membership-routes.js';
import { COLLECTION, ENTITY, NONE, odataParams } from './odata-params.js';

type UserParams = { Params: { id: string } };

export function userRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/users', async (request) => {
    const params = odataParams(request, COLLECTION);
    const page = await (await accessOf(deps, request)).reader().listUsers(params.options);
    return collection(deps, request, 'users', params, page);
  });

  app.post<{ Body: Static<typeof UserCreate> }>('/users', { schema: { body: UserCreate } }, async (request, reply) => {
    odataParams(request, NONE);
    const { passwordProfile, keyhavenExtraAttributes, ...rest } = withoutAnnotations(request.body);
    const writer = (await accessOf(deps, request)).users();
    const user = await writer.create({
      ...rest,
      ...(passwordProfile?.password !== undefined ? { password: passwordProfile.password } : {}),
      ...(passwordProfile?.forceChangePasswordNextSignIn !== undefined ? { forceChangePasswordNextSignIn: passwordProfile.forceChangePasswordNextSignIn } : {}),
      ...(keyhavenExtraAttributes !== undefined ? { keyhavenExtraAttributes: keyhavenExtraAttributes as ExtraAttributes } : {}),
    });
    return created(deps, reply, 'users', user);
  });

  app.get<UserParams>('/users/:id', async (request, reply) => {
    const { options } = odataParams(request, ENTITY);
    const select = parseSelect(options.select, USER_PROPERTIES, 'microsoft.graph.user');
    const user = await (await accessOf(deps, request)).reader().getUser(request.params.id);
    return entity(deps, reply, 'users/$entity', project(user, select), select);
  });

  app.patch<UserParams & { Body: Static<typeof UserUpdate> }>('/users/:id', { schema: { body: UserUpdate } }, async (request, reply) => {
    odataParams(request, NONE);
    const version = expectedVersion(request);
    const { passwordProfile, ...patch } = withoutAnnotations(request.body);
    const writer = (await accessOf(deps, request)).users();
    // Graph sets a new password through passwordProfile in the same PATCH. It is set first:
    // the password policy is the check most likely to refuse, and it runs before any write.
    if (passwordProfile?.password !== undefined) await writer.resetPassword(request.params.id, passwordProfile.password, passwordProfile.forceChangePasswordNextSignIn === true);
    if (Object.keys(patch).length > 0 || version !== undefined) {
      await writer.update(request.params.id, patch as UpdateUserInput, version);
    }
    return reply.status(204).send();
  });

  app.delete<UserParams>('/users/:id', async (request, reply) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).users().delete(request.params.id);
    return reply.status(204).send();
  });

  // Graph's revokeSignInSessions: 200 with an Edm.Boolean (`{"value": true}`).
  app.post<UserParams>('/users/:id/revokeSignInSessions', async (request) => {
    odataParams(request, NONE);
    await (await accessOf(deps, request)).users().revokeSignInSessions(request.params.id);
    return { '@odata.context': contextUrl(deps, 'Edm.Boolean'), value: true };
  });

  // memberOf, transitiveMemberOf and checkMemberGroups take the user's object id; a
  // userPrincipalName in the path is resolved first, as Graph accepts either.
  membershipRoutes(app, deps, '/users/:id', async (access, key) => (await access.reader().getUser(key)).id);
}
