// /v1.0/me: the signed-in user's own account (Graph resolves /me from the token's oid), the
// groups they are in, and `POST /me/changePassword {currentPassword, newPassword}` → 204,
// checked against the password policy and, for the current password, through the same login
// throttle as a sign-in (so it is no side door for guessing). An app-only token has no /me:
// Graph answers 400 "/me request is only valid with delegated authentication flow."
import type { FastifyInstance } from 'fastify';
import type { DirectoryAccess } from '../../directory/directory-access.js';
import type { Static } from 'typebox';
import { parseSelect, project } from '../../directory/odata-query.js';
import { USER_PROPERTIES } from '../../directory/user-accounts.js';
import { InvalidInputError } from '../../errors.js';
import { accessOf, entity, type GraphDeps } from './graph-response.js';
import { ChangePassword } from './graph-schemas.js';
import { directoryObjects } from './membership-routes.js';
import { ENTITY, NONE, odataParams } from './odata-params.js';

function self(access: DirectoryAccess) {
  if (access.kind !== 'user') {
    throw new InvalidInputError('KH_GRAPH_ME_DELEGATED_ONLY', '/me request is only valid with delegated authentication flow.');
  }
  return access.self();
}

export function meRoutes(app: FastifyInstance, deps: GraphDeps): void {
  app.get('/me', async (request, reply) => {
    const { options } = odataParams(request, ENTITY);
    const select = parseSelect(options.select, USER_PROPERTIES, 'microsoft.graph.user');
    const me = await self(await accessOf(deps, request)).me();
    return entity(deps, reply, 'users/$entity', project(me, select), select);
  });

  app.get('/me/memberOf', async (request) =>
    directoryObjects(deps, request, (access, options) => self(access).memberOf(options)),
  );

  app.get('/me/transitiveMemberOf', async (request) =>
    directoryObjects(deps, request, (access, options) => self(access).transitiveMemberOf(options)),
  );

  app.post<{ Body: Static<typeof ChangePassword> }>('/me/changePassword', { schema: { body: ChangePassword } }, async (request, reply) => {
    odataParams(request, NONE);
    await self(await accessOf(deps, request)).changePassword(request.body.currentPassword, request.body.newPassword);
    return reply.status(204).send();
  });
}
