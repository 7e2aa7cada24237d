// A user's authentication methods and second-factor requirement, shaped like Microsoft Graph:
//
//   GET    /users/{id}/authentication/methods                       password + software OATH (Graph v1.0)
//   GET    /users/{id}/authentication/softwareOathMethods           (Graph v1.0)
//   GET    /users/{id}/authentication/softwareOathMethods/{mid}     (Graph v1.0)
//   DELETE /users/{id}/authentication/softwareOathMethods/{mid}     204 (Graph v1.0)
//   POST   /users/{id}/authentication/softwareOathMethods           Keyhaven: begin TOTP enrolment, 201
//          with the secret and `otpauth://` URI, shown this once (Graph has no such call: Entra
//          enrols authenticator apps in its own sign-in pages)
//   POST   /users/{id}/authentication/softwareOathMethods/{mid}/activate {verificationCode}
//          Keyhaven: confirm it, 204 (the body of Graph's hardwareOath `activate` action)
//   GET    /users/{id}/authentication/requirements                  {perUserMfaState} (Graph beta's
//   PATCH  /users/{id}/authentication/requirements                   strongAuthenticationRequirements)
//   GET    /groups/{id}/authentication/requirements                 Keyhaven: the same for every
//   PATCH  /groups/{id}/authentication/requirements                  transitive member of a group
//
// and the same under /me/authentication for the signed-in user. Graph never returns a secret:
// `secretKey` is null everywhere but in the enrolment's own answer, which is `no-store`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { DirectoryAccess } from '../../directory/directory-access.js';
import type { SoftwareOathMethod } from '../../directory/second-factor.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import { accessOf, contextUrl, type GraphDeps } from './graph-response.js';
import { ActivateOathMethod, MfaRequirement, NewSoftwareOathMethod } from './graph-schemas.js';
import { NONE, odataParams } from './odata-params.js';

/** Graph's fixed id of every user's password method. */
const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

type Params = { id?: string; methodId?: string };

function softwareOath(method: SoftwareOathMethod): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
    id: method.id,
    secretKey: null,
    createdDateTime: method.createdDateTime,
    keyhavenState: method.state,
    keyhavenActivatedDateTime: method.activatedDateTime,
  };
}

export function authenticationRoutes(app: FastifyInstance, deps: GraphDeps): void {
  /** The user a path names: `/users/{id}`, or `/me` (a signed-in user only, as Graph). */
  const methodsOf = async (request: FastifyRequest<{ Params: Params }>) => {
    const access = await accessOf(deps, request);
    const id = request.params.id ?? meOf(access);
    return access.authenticationMethods(id);
  };
  const base = (request: FastifyRequest<{ Params: Params }>, userId: string) =>
    request.params.id === undefined ? 'me/authentication' : `users('${userId}')/authentication`;

  for (const prefix of ['/users/:id/authentication', '/me/authentication']) {
    app.get<{ Params: Params }>(`${prefix}/methods`, async (request) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      const oath = (await methods.softwareOathMethods()).filter((m) => m.state === 'active');
      return {
        '@odata.context': contextUrl(deps, `${base(request, methods.userId)}/methods`),
        value: [
          { '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: null },
          ...oath.map(softwareOath),
        ],
      };
    });

    app.get<{ Params: Params }>(`${prefix}/softwareOathMethods`, async (request) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      return { '@odata.context': contextUrl(deps, `${base(request, methods.userId)}/softwareOathMethods`), value: (await methods.softwareOathMethods()).map(softwareOath) };
    });

    app.get<{ Params: Params }>(`${prefix}/softwareOathMethods/:methodId`, async (request) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      const found = (await methods.softwareOathMethods()).find((m) => m.id === request.params.methodId!.toLowerCase());
      if (!found) throw new NotFoundError('KH_MFA_METHOD_NOT_FOUND', `The user has no authentication method '${request.params.methodId!.slice(0, 64)}'.`);
      return { '@odata.context': contextUrl(deps, `${base(request, methods.userId)}/softwareOathMethods/$entity`), ...softwareOath(found) };
    });

    app.post<{ Params: Params; Body: Static<typeof NewSoftwareOathMethod> }>(`${prefix}/softwareOathMethods`, { schema: { body: NewSoftwareOathMethod } }, async (request, reply) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      const enrolment = await methods.beginSoftwareOath();
      // The one answer that carries the secret: never cached (RFC 9111 §5.2.2.5).
      void reply.status(201).header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        '@odata.context': contextUrl(deps, `${base(request, methods.userId)}/softwareOathMethods/$entity`),
        '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
        id: enrolment.methodId,
        secretKey: enrolment.secret.reveal(),
        keyhavenState: 'pending',
        keyhavenOtpauthUri: enrolment.otpauthUri.reveal(),
        keyhavenExpiresDateTime: enrolment.expiresDateTime,
      };
    });

    app.post<{ Params: Params; Body: Static<typeof ActivateOathMethod> }>(`${prefix}/softwareOathMethods/:methodId/activate`, { schema: { body: ActivateOathMethod } }, async (request, reply) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      await methods.activateSoftwareOath(request.params.methodId!.toLowerCase(), request.body.verificationCode);
      return reply.status(204).send();
    });

    app.delete<{ Params: Params }>(`${prefix}/softwareOathMethods/:methodId`, async (request, reply) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      await methods.removeSoftwareOath(request.params.methodId!);
      return reply.status(204).send();
    });

    app.get<{ Params: Params }>(`${prefix}/requirements`, async (request) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      return { '@odata.context': contextUrl(deps, `${base(request, methods.userId)}/requirements/$entity`), ...(await methods.requirement()) };
    });

    app.patch<{ Params: Params; Body: Static<typeof MfaRequirement> }>(`${prefix}/requirements`, { schema: { body: MfaRequirement } }, async (request, reply) => {
      odataParams(request, NONE);
      const methods = await methodsOf(request);
      await methods.setRequirement(request.body.perUserMfaState);
      return reply.status(204).send();
    });
  }

  app.get<{ Params: { id: string } }>('/groups/:id/authentication/requirements', async (request) => {
    odataParams(request, NONE);
    const requirement = await (await accessOf(deps, request)).groupMfaRequirement(request.params.id);
    return { '@odata.context': contextUrl(deps, `groups('${request.params.id}')/authentication/requirements/$entity`), ...(await requirement.get()) };
  });

  app.patch<{ Params: { id: string }; Body: Static<typeof MfaRequirement> }>('/groups/:id/authentication/requirements', { schema: { body: MfaRequirement } }, async (request, reply: FastifyReply) => {
    odataParams(request, NONE);
    const requirement = await (await accessOf(deps, request)).groupMfaRequirement(request.params.id);
    await requirement.set(request.body.perUserMfaState);
    return reply.status(204).send();
  });
}

function meOf(access: DirectoryAccess): string {
  if (access.kind !== 'user') throw new InvalidInputError('KH_GRAPH_ME_DELEGATED_ONLY', '/me request is only valid with delegated authentication flow.');
  return access.actor.id;
}
