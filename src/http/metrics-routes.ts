// GET /metrics (Prometheus text format) on the HTTPS port, behind a bearer token for the
// management API whose principal holds `Keyhaven.Server/metrics/read` at the root scope `/` —
// the built-in role Keyhaven Metrics Reader — or is a Global Administrator; 401 without a
// token, 403 without the permission. Also: the hook that counts every HTTPS request by face and
// route *template* (never the path as sent: it may hold a user name or a secret's name).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Authorizer } from '../authz/authorizer.js';
import { ForbiddenError } from '../errors.js';
import type { Face, Metrics } from '../metrics/metrics.js';
import type { Authenticate } from './bearer-auth.js';

export const METRICS_READ = 'Keyhaven.Server/metrics/read';

export interface MetricsRoutesOptions {
  metrics: Metrics;
  authenticate: Authenticate;
  audiences: readonly string[];
  authorizer: Pick<Authorizer, 'can'>;
  isGlobalAdministrator: (objectId: string) => Promise<boolean>;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app: FastifyInstance, o) => {
  app.get('/metrics', { preHandler: o.authenticate(o.audiences) }, async (request, reply) => {
    const id = request.principal!.objectId;
    if (!(await o.authorizer.can(id, METRICS_READ, '/')) && !(await o.isGlobalAdministrator(id))) {
      throw new ForbiddenError('KH_AUTHORIZATION_FAILED', `The client with object id '${id}' does not have authorization to perform action '${METRICS_READ}' over scope '/'.`);
    }
    return reply.header('content-type', o.metrics.contentType).header('cache-control', 'no-store').send(await o.metrics.text());
  });
};

/**
 * Counts each request when its answer is sent, and logs it in one line (Fastify's own two
 * lines, "incoming request" and "request completed", are off): `face`, the route template, the
 * request (method, redacted URL, address, id, safe headers), the status and the time taken —
 * at info, health probes at debug.
 */
export function observeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const face = faceOf(request, route);
    metrics.httpRequest(face, route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    const line = { face, route, req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 1000) / 1000 };
    if (face === 'health') request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });
}

function faceOf(request: FastifyRequest, route: string): Face {
  if (route === 'unmatched') return 'other';
  if (route.startsWith('/graph')) return 'graph';
  if (route === '/healthz' || route === '/readyz') return 'health';
  if (route === '/metrics') return 'metrics';
  if (route.endsWith('/authorize') || route.endsWith('/logout') || route === '/devicelogin') return 'signin';
  if (route.includes('/oauth2/') || route.startsWith('/adfs') || route.includes('.well-known') || route.includes('/discovery/')) return 'oauth';
  if (route.startsWith('/machines')) return 'machines';
  if (route.startsWith('/vaults') || /^[^.]+\.vault\./.test(String(request.headers.host ?? ''))) return 'vault';
  if (route.startsWith('/subscriptions') || route.startsWith('/providers') || route.startsWith('/tenants') || route.startsWith('/metadata')) return 'arm';
  return 'other';
}
