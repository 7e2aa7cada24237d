// The JSON endpoints of the browser and device sign-ins, at Entra's paths:
//   POST /{tenant}/oauth2/v2.0/devicecode, /{tenant}/oauth2/devicecode, /adfs/oauth2/devicecode
//        (RFC 8628 §3.1–3.2; errors in Entra's token-endpoint shape, oauth-error.ts)
//   POST /{tenant}/oauth2/v2.0/revoke, /{tenant}/oauth2/revoke, /adfs/oauth2/revoke
//        (RFC 7009: a client revokes a refresh token it holds, and so its family)
//   GET|POST /graph/oidc/userinfo, /adfs/oauth2/userinfo  (OpenID Connect Core §5.3; Entra's is
//        https://graph.microsoft.com/oidc/userinfo; errors per RFC 6750 §3)
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import type { TokenEndpoint } from '../../tokens/grants/grant.js';
import type { DeviceCodeEndpoint } from '../../tokens/signin/device-code-endpoint.js';
import type { UserInfo } from '../../tokens/signin/userinfo.js';
import type { TokenRevocation } from '../../tokens/signin/token-revocation.js';
import { bearerToken } from '../../tokens/token-verifier.js';
import { toKeyhavenError } from '../error-handler.js';
import { presentedClient } from './client-auth.js';
import { registerFormParser, type FormBody } from './form-body.js';
import { oauthErrorHandler } from './oauth-error.js';
import { checkTenant } from './tenant.js';

export interface DeviceUserInfoRoutesOptions {
  deviceCodes: DeviceCodeEndpoint;
  userInfo: UserInfo;
  revocation: TokenRevocation;
  tenantId: string;
  publicUrl: string;
}

export const deviceUserInfoRoutes: FastifyPluginAsync<DeviceUserInfoRoutesOptions> = async (app: FastifyInstance, o) => {
  registerFormParser(app);
  app.setErrorHandler(oauthErrorHandler);
  const base = o.publicUrl.replace(/\/+$/, '');
  const verificationUri = `${base}/devicelogin`;

  async function devicecode(request: FastifyRequest, reply: FastifyReply, endpoint: TokenEndpoint, path: string) {
    const body = request.body;
    if (!(body instanceof Map)) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'client_id'");
    const form = body as FormBody;
    const started = await o.deviceCodes.start(endpoint, form, presentedClient(form, request.headers.authorization), {
      source: request.ip, correlationId: request.id, endpointUrl: `${base}${path.replace(/devicecode$/, 'token')}`,
    });
    const answer: Record<string, string | number> = {
      user_code: started.userCode,
      device_code: started.deviceCode,
      verification_uri: verificationUri,
      expires_in: started.expiresIn,
      interval: started.interval,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${started.userCode} to authenticate.`,
    };
    // Entra's v1 endpoint spells it verification_url; MSAL against /adfs reads either.
    if (endpoint !== 'v2') answer.verification_url = verificationUri;
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(answer);
  }

  type Tenant = { Params: { tenant: string } };
  app.post<Tenant>('/:tenant/oauth2/v2.0/devicecode', async (request, reply) => {
    checkTenant(o.tenantId, request.params.tenant);
    return devicecode(request, reply, 'v2', `/${request.params.tenant}/oauth2/v2.0/devicecode`);
  });
  app.post<Tenant>('/:tenant/oauth2/devicecode', async (request, reply) => {
    checkTenant(o.tenantId, request.params.tenant);
    return devicecode(request, reply, 'v1', `/${request.params.tenant}/oauth2/devicecode`);
  });
  app.post('/adfs/oauth2/devicecode', (request, reply) => devicecode(request, reply, 'adfs', '/adfs/oauth2/devicecode'));

  async function revoke(request: FastifyRequest, reply: FastifyReply, path: string) {
    const body = request.body;
    if (!(body instanceof Map)) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'token'");
    const form = body as FormBody;
    await o.revocation.revoke(form, presentedClient(form, request.headers.authorization), {
      source: request.ip, correlationId: request.id, endpointUrl: `${base}${path.replace(/revoke$/, 'token')}`,
    });
    return reply.header('cache-control', 'no-store').status(200).send();
  }
  app.post<Tenant>('/:tenant/oauth2/v2.0/revoke', async (request, reply) => {
    checkTenant(o.tenantId, request.params.tenant);
    return revoke(request, reply, `/${request.params.tenant}/oauth2/v2.0/revoke`);
  });
  app.post<Tenant>('/:tenant/oauth2/revoke', async (request, reply) => {
    checkTenant(o.tenantId, request.params.tenant);
    return revoke(request, reply, `/${request.params.tenant}/oauth2/revoke`);
  });
  app.post('/adfs/oauth2/revoke', (request, reply) => revoke(request, reply, '/adfs/oauth2/revoke'));

  async function userinfo(request: FastifyRequest, reply: FastifyReply) {
    try {
      const claims = await o.userInfo.claims(bearerToken(request.headers.authorization));
      return reply.header('cache-control', 'no-store').send(claims);
    } catch (err) {
      const error = toKeyhavenError(err);
      if (error.kind !== 'Unauthenticated') throw err;
      // RFC 6750 §3.1: invalid_token, with the reason in the header only.
      return reply
        .status(401)
        .header('www-authenticate', `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_token', error_description: error.message });
    }
  }
  app.get('/graph/oidc/userinfo', userinfo);
  app.post('/graph/oidc/userinfo', userinfo);
  app.get('/adfs/oauth2/userinfo', userinfo);
  app.post('/adfs/oauth2/userinfo', userinfo);
};
