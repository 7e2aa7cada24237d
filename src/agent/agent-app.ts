// The metadata agent's HTTP face, Azure IMDS-compatible (issue 11 item 2), on loopback:
//
//   GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id|object_id|msi_res_id]
//   GET  /oauth2/token?resource=R          the older VM-extension (MSI) form, what msrestazure and
//   POST /oauth2/token   resource=R         the seed's `curl … --data "resource=…" -H Metadata:true` use
//   GET  /metadata/instance?api-version=…  the compute section
//   GET  /jobs/{id}/oauth2/token           a job's own endpoint (job-endpoints.ts): App Service
//                                          (X-IDENTITY-HEADER, 2019-08-01) and Azure ML (secret, 2017-09-01)
//   POST /keyhaven/jobs, DELETE /keyhaven/jobs/{id}, GET /keyhaven/status   the agent's own control
//
// The SSRF guard is IMDS's: `Metadata: true` on every metadata request, any X-Forwarded-For
// refused, loopback (or the configured link-local address) only. Answers are IMDS's JSON, with
// numbers as strings of digits, as IMDS sends them and every client parses them.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ImdsError, IMDS_ERRORS } from './imds-errors.js';
import { selectorOf, type IdentitySelector } from './identity-selector.js';
import type { JobEndpoints } from './job-endpoints.js';
import type { CallerLimits } from './rate-limit.js';
import type { IssuedToken, TokenCache } from './token-cache.js';

/** What /metadata/instance answers about this machine (from its credential and the server). */
export interface InstanceCompute {
  name: string;
  vmId: string;
  resourceId: string;
  resourceGroupName: string;
  subscriptionId: string;
  vmScaleSetName: string;
  location: string;
  tags: string;
  osType: string;
  azEnvironment: string;
}

export interface AgentStatus {
  server: string;
  machine: { id: string; resourceId: string; clientId: string };
}

export interface AgentAppOptions {
  cache: TokenCache;
  limits: CallerLimits;
  jobs: JobEndpoints;
  instance: () => InstanceCompute;
  status: () => AgentStatus;
  logger: Logger;
  /** The base URL clients reach the agent at (job endpoints are named under it). */
  baseUrl: () => string;
  maxJobTtlSeconds?: number;
  now?: () => number;
}

/** IMDS api-versions (the identity endpoint takes any of them). */
export const IMDS_API_VERSIONS = new Set([
  '2017-03-01', '2017-04-02', '2017-08-01', '2017-09-01', '2017-10-01', '2017-12-01', '2018-02-01', '2018-04-02', '2018-10-01',
  '2019-02-01', '2019-03-11', '2019-04-30', '2019-06-01', '2019-06-04', '2019-08-01', '2019-08-15', '2019-11-01', '2020-06-01',
  '2020-07-15', '2020-09-01', '2020-10-01', '2020-12-01', '2021-01-01', '2021-02-01', '2021-03-01', '2021-05-01', '2021-10-01',
  '2021-11-01', '2021-11-15', '2021-12-13', '2023-07-01', '2023-11-15', '2024-03-15', '2025-04-07',
]);

const MAX_RESOURCE = 2048;

export async function buildAgentApp(o: AgentAppOptions): Promise<FastifyInstance> {
  const now = o.now ?? Date.now;
  const tokenAnswer = (reply: FastifyReply, t: IssuedToken, shape: 'imds' | 'app-service') => answerToken(reply, t, shape, now());
  const app = Fastify({ loggerInstance: o.logger.child({ component: 'agent' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 16 * 1024, return503OnClosing: true,
    // MSAL Node asks for /metadata/identity/oauth2/token/ (with the slash); IMDS answers both.
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof ImdsError) return send(reply, err);
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return send(reply, new ImdsError(status, 'invalid_request', 'The request could not be read.'));
    request.log.error({ err: { message: (err as Error).message } }, 'metadata request failed');
    return send(reply, new ImdsError(500, 'unknown_error', 'The metadata agent failed; retry later.'));
  });
  app.setNotFoundHandler((_request, reply) => send(reply, IMDS_ERRORS.notFound()));

  // The guards every request passes, before anything is parsed.
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-forwarded-for'] !== undefined) return send(reply, IMDS_ERRORS.forwarded());
    const admitted = o.limits.admit(request.ip);
    if ('retryAfterSeconds' in admitted) return send(reply, IMDS_ERRORS.throttled(admitted.retryAfterSeconds));
    reply.raw.once('close', admitted.release);
    // Job endpoints check their own secret; everything else is the metadata endpoint.
    if (!request.url.startsWith('/jobs/') && String(request.headers['metadata']).toLowerCase() !== 'true') return send(reply, IMDS_ERRORS.metadataHeader());
    return undefined;
  });

  app.get('/metadata/identity/oauth2/token', async (request, reply) => {
    const q = query(request);
    apiVersion(q, true);
    return tokenAnswer(reply, await o.cache.get(selectorOf(q), resourceOf(q)), 'imds');
  });

  const msiExtension = async (params: URLSearchParams, reply: FastifyReply) => tokenAnswer(reply, await o.cache.get(selectorOf(params), resourceOf(params)), 'imds');
  app.get('/oauth2/token', async (request, reply) => msiExtension(query(request), reply));
  app.post('/oauth2/token', async (request, reply) => {
    const body = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    // The body's resource, else the query's (the extension took either).
    const params = new URLSearchParams(query(request));
    for (const [k, v] of body) params.set(k, v);
    return msiExtension(params, reply);
  });

  app.get('/metadata/instance', async (request, reply) => {
    apiVersion(query(request), true);
    return reply.header('content-type', 'application/json; charset=utf-8').send({ compute: o.instance() });
  });
  app.get('/metadata/instance/compute', async (request, reply) => {
    apiVersion(query(request), true);
    return reply.header('content-type', 'application/json; charset=utf-8').send(o.instance());
  });

  // ---- a job's endpoint ---------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/jobs/:id/oauth2/token', async (request, reply) => {
    const appService = headerOf(request, 'x-identity-header');
    const secret = appService ?? headerOf(request, 'secret');
    const job = o.jobs.check(request.params.id, secret);
    if (!job) throw IMDS_ERRORS.secret();
    const q = query(request);
    const asked = selectorOf(q);
    // A job pinned to one identity gets that one, whatever it asks by default; another is refused.
    const identity = job.identity ? pinned(job.identity, asked) : asked;
    const token = await o.cache.get(identity, resourceOf(q));
    return tokenAnswer(reply, token, appService !== undefined ? 'app-service' : 'imds');
  });

  // ---- the agent's own control --------------------------------------------------------------
  app.post('/keyhaven/jobs', async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null && !(request.body instanceof URLSearchParams) ? request.body : {}) as Record<string, unknown>;
    const max = o.maxJobTtlSeconds ?? 86_400;
    const ttl = body['ttlSeconds'] === undefined ? 3600 : Number(body['ttlSeconds']);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > max) throw new ImdsError(400, 'invalid_request', `ttlSeconds must be a whole number of seconds from 1 to ${max}.`);
    const selector = new URLSearchParams();
    for (const name of ['client_id', 'object_id', 'msi_res_id']) if (typeof body[name] === 'string') selector.set(name, body[name] as string);
    const identity = [...selector.keys()].length > 0 ? selectorOf(selector) : undefined;
    const job = o.jobs.mint({ ttlSeconds: ttl, ...(identity ? { identity } : {}) });
    const endpoint = `${o.baseUrl()}/jobs/${job.id}/oauth2/token`;
    return reply.status(201).header('cache-control', 'no-store').send({
      id: job.id, expiresOn: new Date(job.expiresAt).toISOString(),
      // App Service's pair and Azure ML's: the SDKs pick whichever they find (MSI_ENDPOINT alone means Cloud Shell to Python).
      env: { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: job.secret, MSI_ENDPOINT: endpoint, MSI_SECRET: job.secret },
    });
  });
  app.delete<{ Params: { id: string } }>('/keyhaven/jobs/:id', async (request, reply) => {
    const job = o.jobs.check(request.params.id, headerOf(request, 'x-identity-header'));
    if (!job) throw IMDS_ERRORS.secret();
    o.jobs.revoke(job.id);
    return reply.status(204).send();
  });
  app.get('/keyhaven/status', async (_request, reply) => reply.send({
    ...o.status(), cachedTokens: o.cache.size, identitiesCached: o.cache.identities(), upstreamRequests: o.cache.upstreamRequests, jobEndpoints: o.jobs.size,
  }));

  return app;
}

function send(reply: FastifyReply, err: ImdsError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(err.status).header('content-type', 'application/json; charset=utf-8').send(err.body);
}

function query(request: FastifyRequest): URLSearchParams {
  const q = request.url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1));
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function apiVersion(q: URLSearchParams, required: boolean): void {
  const v = q.get('api-version');
  if (v === null ? required : !IMDS_API_VERSIONS.has(v)) throw IMDS_ERRORS.apiVersion();
}

function resourceOf(q: URLSearchParams): string {
  const resource = q.get('resource');
  if (resource === null || resource === '') throw IMDS_ERRORS.resource();
  if (resource.length > MAX_RESOURCE || /[\s\u0000-\u001f]/.test(resource)) throw IMDS_ERRORS.badResource();
  return resource;
}

function pinned(identity: IdentitySelector, asked: IdentitySelector): IdentitySelector {
  if (asked.kind === 'system') return identity;
  if (identity.kind !== 'system' && asked.kind === identity.kind && asked.value === identity.value) return identity;
  throw IMDS_ERRORS.identityNotFound();
}

function answerToken(reply: FastifyReply, t: IssuedToken, shape: 'imds' | 'app-service', nowMs: number): FastifyReply {
  const expiresIn = String(Math.max(0, Math.floor(t.expiresOn - nowMs / 1000)));
  const body = shape === 'app-service'
    ? { access_token: t.accessToken, expires_on: String(t.expiresOn), resource: t.resource, token_type: 'Bearer', client_id: t.clientId }
    : {
        access_token: t.accessToken, client_id: t.clientId, expires_in: expiresIn, expires_on: String(t.expiresOn), ext_expires_in: expiresIn,
        not_before: String(t.notBefore), resource: t.resource, token_type: 'Bearer',
      };
  return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(body);
}
