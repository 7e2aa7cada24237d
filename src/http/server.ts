// The HTTPS face: one Fastify instance on the server certificate. Each API registers as a
// plugin receiving the services it needs; this file holds only what all of them share —
// TLS, request ids, logging, body limits, error rendering, health endpoints.
import { metricsRoutes, observeRequests } from './metrics-routes.js';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../crypto/tls-ca.js';
import { requestSerializer } from '../log/logger.js';
import type { Readiness } from '../server/readiness.js';
import type { Services } from '../server/services.js';
import { bearerAuthentication } from './bearer-auth.js';
import { discoveryRoutes } from './oauth/discovery-routes.js';
import { tokenRoutes } from './oauth/token-routes.js';
import { signInRoutes } from './oauth/signin-routes.js';
import { deviceUserInfoRoutes } from './oauth/device-userinfo-routes.js';
import { errorHandler } from './error-handler.js';
import { graphRoutes } from './graph/graph-routes.js';
import { healthRoutes } from './health-routes.js';
import { armRoutes } from './arm/arm-routes.js';
import { metadataRoutes } from './arm/metadata-routes.js';
import { vaultHostRewrite, vaultRoutes } from './vault/vault-routes.js';
import { machineRoutes } from './machines/machine-routes.js';
import { GLOBAL_ADMINISTRATOR } from '../directory/role-definitions.js';
import { normalizePublicUrl } from '../tokens/token-claims.js';

export interface HttpServerDeps {
  services: Services;
  tls: Pick<TlsMaterial, 'certPem' | 'keyPem'>;
  logger: Logger;
  /** What /readyz reports: start-up finished and not shutting down. */
  readiness: Readiness;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type HttpApp = Awaited<ReturnType<typeof buildHttpServer>>;

export async function buildHttpServer(deps: HttpServerDeps) {
  const app = Fastify({
    https: { key: deps.tls.keyPem, cert: deps.tls.certPem, minVersion: 'TLSv1.2' },
    loggerInstance: deps.logger.child({}, { serializers: { req: requestSerializer } }) as FastifyBaseLogger,
    // Azure clients send x-ms-client-request-id; echoing a well-formed one helps correlate.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-ms-client-request-id'];
      return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    // A userPrincipalName may have 113 characters and appears as a path segment (/users/{upn});
    // Fastify's default refuses parameters over 100 before any route sees them.
    routerOptions: { maxParamLength: 1024 },
    forceCloseConnections: 'idle',
    // One line per request, written by observeRequests (metrics-routes.ts).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    trustProxy: false,
    // A vault's host form (https://{vault}.{vaultDnsSuffix}:{port}/secrets/…) is served as /vaults/{vault}/secrets/….
    rewriteUrl: vaultHostRewrite(deps.services.core.config.vaultDnsSuffix),
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-ms-request-id', request.id);
  });
  observeRequests(app, deps.services.core.metrics);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'KH_NO_SUCH_PATH', message: `no route for ${request.method} ${request.url.split('?')[0]}` } });
  });
  const { core, tokens, signingKeys, verifier, directory } = deps.services;
  // Pending refusal summaries are written while the audit log still takes records.
  app.addHook('onClose', async () => deps.services.refusals.close());
  app.addHook('onClose', async () => deps.services.vaultPurge.close());
  await app.register(healthRoutes, { readiness: deps.readiness });
  await app.register(tokenRoutes, { tokens, tenantId: core.tenantId, publicUrl: core.config.publicUrl });
  const s = deps.services;
  await app.register(signInRoutes, { signIn: s.browserSignIn, devices: s.devices, principals: { clientRegistration: (id) => directory.clientRegistration(id) }, tenantId: core.tenantId, csrfKey: s.csrfKey });
  await app.register(deviceUserInfoRoutes, { deviceCodes: s.deviceCodes, userInfo: s.userInfo, revocation: s.revocation, tenantId: core.tenantId, publicUrl: core.config.publicUrl });
  await app.register(discoveryRoutes, { publicUrl: core.config.publicUrl, tenantId: core.tenantId, keys: signingKeys, grantTypes: tokens.grantTypes() });
  const authenticate = bearerAuthentication(verifier, directory, deps.services.machines.status);
  await app.register(machineRoutes, { machines: deps.services.machines, publicUrl: normalizePublicUrl(core.config.publicUrl), tenantId: core.tenantId });
  await app.register(metricsRoutes, {
    metrics: core.metrics,
    authenticate,
    audiences: deps.services.audiences.acceptedAudiences('management'),
    authorizer: deps.services.authorizer,
    isGlobalAdministrator: (id) => directory.holdsDirectoryRole(id, GLOBAL_ADMINISTRATOR),
  });
  // The APIs (directory, management, vaults) register with it.
  await app.register(graphRoutes, {
    prefix: '/graph',
    directory,
    authenticate,
    audiences: deps.services.audiences,
    publicUrl: core.config.publicUrl,
    tenantId: core.tenantId,
  });
  const publicUrl = normalizePublicUrl(core.config.publicUrl);
  const { audiences } = deps.services;
  await app.register(metadataRoutes, {
    publicUrl,
    tenantId: core.tenantId,
    managementAudiences: audiences.aliases('management'),
    graphAudience: audiences.aliases('directory')[0]!,
    vaultDnsSuffix: core.config.vaultDnsSuffix,
  });
  await app.register(armRoutes, {
    authenticate,
    audiences: audiences.acceptedAudiences('management'),
    deps: {
      resources: deps.services.resources,
      authorizer: deps.services.authorizer,
      assignments: deps.services.roleAssignments,
      roles: deps.services.customRoles,
      isGlobalAdministrator: (id) => directory.holdsDirectoryRole(id, GLOBAL_ADMINISTRATOR),
      tenantId: core.tenantId,
      publicUrl,
      tenantDomain: core.config.directoryDomain,
      deletedVaults: deps.services.deletedVaults,
      machines: deps.services.machines,
    },
  });
  await app.register(vaultRoutes, {
    prefix: '/vaults',
    secrets: deps.services.secrets,
    authenticate,
    audiences: audiences.acceptedAudiences('vault'),
    vaultAudience: audiences.aliases('vault')[0]!,
    publicUrl,
    tenantId: core.tenantId,
    vaultDnsSuffix: core.config.vaultDnsSuffix,
  });
  return app;
}
