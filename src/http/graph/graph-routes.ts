// The directory API, shaped like Microsoft Graph v1.0, as one Fastify plugin registered at
// `/graph` (so `{publicUrl}/graph/v1.0/users` is Graph's `https://graph.microsoft.com/v1.0/users`).
// Every request: authenticate (a bearer token for the directory audience — `{publicUrl}/graph/`
// or `https://graph.microsoft.com` — whose principal still exists and is enabled) → parse and
// schema-check the body → ask the core for the caller's access and the narrower capability the
// route needs (directory-access.ts) → act → answer in Graph's shapes and Graph's errors.
// Authentication runs first (onRequest), before any body is read, so an anonymous caller gets
// Graph's 401 and never makes the server parse a large body.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DirectoryService } from '../../directory/directory-service.js';
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import type { Audiences } from '../../tokens/audiences.js';
import { normalizePublicUrl } from '../../tokens/token-claims.js';
import type { Authenticate } from '../bearer-auth.js';
import { applicationRoutes } from './applications-routes.js';
import { authenticationRoutes } from './authentication-routes.js';
import { directoryObjectRoutes } from './directory-objects-routes.js';
import { graphErrorHandler } from './graph-errors.js';
import type { GraphDeps } from './graph-response.js';
import { graphValidatorCompiler } from './graph-schemas.js';
import { groupRoutes } from './groups-routes.js';
import { meRoutes } from './me-routes.js';
import { organizationRoutes } from './organization-routes.js';
import { roleRoutes } from './role-routes.js';
import { servicePrincipalRoutes } from './service-principals-routes.js';
import { userRoutes } from './users-routes.js';

export interface GraphRoutesOptions {
  directory: DirectoryService;
  authenticate: Authenticate;
  audiences: Pick<Audiences, 'acceptedAudiences'>;
  publicUrl: string;
  tenantId: string;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']);

function methodNotAllowed(): never {
  throw new InvalidInputError('KH_GRAPH_METHOD_NOT_ALLOWED', 'Specified HTTP method is not allowed for the request target.');
}

/** Graph's answer for a path it has no resource for (or a method it does not take there). */
function noSuchPath(request: FastifyRequest): never {
  if (!METHODS.has(request.method)) methodNotAllowed();
  const segments = request.url.split('?')[0]!.split('/').filter((s) => s !== '');
  let last = segments[segments.length - 1] ?? '';
  try {
    last = decodeURIComponent(last);
  } catch {
    // shown as sent
  }
  throw new InvalidInputError('KH_GRAPH_NO_SUCH_SEGMENT', `Resource not found for the segment '${last.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}'.`);
}

export const graphRoutes: FastifyPluginAsync<GraphRoutesOptions> = async (app: FastifyInstance, options) => {
  const deps: GraphDeps = { directory: options.directory, publicUrl: normalizePublicUrl(options.publicUrl), tenantId: options.tenantId };
  app.setErrorHandler(graphErrorHandler({ publicUrl: deps.publicUrl, tenantId: deps.tenantId }));
  app.setValidatorCompiler(graphValidatorCompiler);
  // Graph takes JSON only: a text/plain body is 415 here, not a string handed to a route.
  app.removeContentTypeParser('text/plain');

  const verify = options.authenticate(options.audiences.acceptedAudiences('directory'));
  app.addHook('onRequest', async function authenticate(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (request.headers.authorization === undefined || request.headers.authorization.trim() === '') {
      throw new UnauthenticatedError('KH_GRAPH_TOKEN_MISSING', 'Access token is empty.');
    }
    await verify.call(this, request, reply);
    // Before the body is read: Graph answers PUT, OPTIONS and the like with 405 on any path.
    if (!METHODS.has(request.method)) methodNotAllowed();
  });
  // An id in the path is a GUID, a userPrincipalName or a short name: never control characters
  // (PostgreSQL refuses NUL in text) nor longer than any of those. Graph: "Invalid object identifier".
  app.addHook('preValidation', async (request) => {
    for (const value of Object.values((request.params ?? {}) as Record<string, string>)) {
      if (value.length > 256 || /\p{Cc}/u.test(value)) {
        throw new InvalidInputError('KH_GRAPH_OBJECT_ID_INVALID', `Invalid object identifier '${value.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}'.`);
      }
    }
  });
  app.setNotFoundHandler(async (request) => noSuchPath(request));

  await app.register(
    async (v1) => {
      userRoutes(v1, deps);
      meRoutes(v1, deps);
      authenticationRoutes(v1, deps);
      groupRoutes(v1, deps);
      directoryObjectRoutes(v1, deps);
      applicationRoutes(v1, deps);
      servicePrincipalRoutes(v1, deps);
      roleRoutes(v1, deps);
      organizationRoutes(v1, deps);
    },
    { prefix: '/v1.0' },
  );
};
