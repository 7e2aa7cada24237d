// The management plane, shaped like Azure Resource Manager, as one Fastify plugin at the root
// of the HTTPS port (so `{publicUrl}/subscriptions/…` is `https://management.azure.com/subscriptions/…`).
// Every request: authenticate (a bearer token for the management audience `{publicUrl}/` or
// its aliases, whose principal still exists and is enabled) before the body is read → split
// the raw path into checked ARM segments → route → authorize → act → answer in ARM's shapes
// and ARM's errors. The anonymous metadata endpoint lives in metadata-routes.ts.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { UnauthenticatedError } from '../../errors.js';
import { printable } from '../../resources/resource-id.js';
import { NotFoundError } from '../../errors.js';
import type { Authenticate } from '../bearer-auth.js';
import { armCall, type ArmDeps } from './arm-context.js';
import { armErrorHandler } from './arm-errors.js';
import { armSegments } from './arm-path.js';
import { authorizationProvider } from './arm-rbac-handlers.js';
import { createSubscriptionAlias, listSubscriptions, listTenants, subscriptionTree } from './arm-resource-handlers.js';

export interface ArmRoutesOptions {
  deps: ArmDeps;
  authenticate: Authenticate;
  audiences: readonly string[];
}

const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'] as const;

async function dispatch(deps: ArmDeps, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const call = armCall(request, reply, armSegments(request.raw.url ?? request.url));
  const { segments, lower } = call;
  if (segments.length === 1 && lower[0] === 'subscriptions') return listSubscriptions(deps, call);
  if (segments.length === 1 && lower[0] === 'tenants') return listTenants(deps, call);
  // An extension resource of Microsoft.Authorization at any scope (the root, a subscription, a group, a resource).
  for (let i = 0; i + 1 < segments.length; i++) {
    if (lower[i] === 'providers' && lower[i + 1] === 'microsoft.authorization') return authorizationProvider(deps, call, segments.slice(0, i), segments.slice(i + 2));
  }
  if (segments.length === 4 && lower[0] === 'providers' && lower[1] === 'microsoft.subscription' && lower[2] === 'aliases') return createSubscriptionAlias(deps, call, segments[3]!);
  if (lower[0] === 'subscriptions' && segments.length >= 2) return subscriptionTree(deps, call);
  throw new NotFoundError('KH_ARM_NO_SUCH_PATH', `No route for '${printable(request.url.split('?')[0]!)}'.`);
}

export const armRoutes: FastifyPluginAsync<ArmRoutesOptions> = async (app: FastifyInstance, options) => {
  const { deps } = options;
  app.setErrorHandler(armErrorHandler({ publicUrl: deps.publicUrl, tenantId: deps.tenantId }));
  // ARM takes JSON only.
  app.removeContentTypeParser('text/plain');
  const verify = options.authenticate(options.audiences);
  app.addHook('onRequest', async function authenticate(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (request.headers.authorization === undefined || request.headers.authorization.trim() === '') {
      throw new UnauthenticatedError('KH_ARM_TOKEN_MISSING', "Authentication failed. The 'Authorization' header is missing.");
    }
    await verify.call(this, request, reply);
  });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = await dispatch(deps, request, reply);
    if (body === '' || request.method === 'HEAD') return reply.send();
    return reply.send(body);
  };
  for (const url of ['/subscriptions', '/subscriptions/*', '/tenants', '/providers/*']) {
    app.route({ method: [...METHODS], url, handler, exposeHeadRoute: false });
  }
};
