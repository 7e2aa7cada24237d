// The token endpoints at the paths Entra ID has them:
//   POST /{tenant}/oauth2/v2.0/token   (v2: scope=…/.default)
//   POST /{tenant}/oauth2/token        (v1: resource=…)
//   POST /adfs/oauth2/token            (the ADFS-shaped authority MSAL-based tools accept for a
//                                       custom cloud: resource= or scope=, v1-shaped answers)
// Each request: parse the form → read the client's presented credentials → hand both to the
// grant the token service registers for grant_type (src/tokens/grants/grant-registry.ts) →
// render its result, or its error in Entra's shape (oauth-error.ts). Responses are never
// cached (RFC 6749 §5.1).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import type { TokenVersion } from '../../tokens/token-claims.js';
import type { GrantResult, TokenEndpoint } from '../../tokens/grants/grant.js';
import type { TokenService } from '../../tokens/token-service.js';
import { presentedClient } from './client-auth.js';
import { registerFormParser, type FormBody } from './form-body.js';
import { oauthErrorHandler } from './oauth-error.js';
import { checkTenant } from './tenant.js';

export interface TokenRoutesOptions {
  tokens: TokenService;
  tenantId: string;
  publicUrl: string;
}

function formOf(request: FastifyRequest): FormBody {
  const body = request.body;
  if (!(body instanceof Map)) {
    // RFC 6749 §4.4.2: the parameters come form-encoded; a JSON or text body holds none of them.
    if (body !== undefined && body !== null && body !== '') {
      throw new InvalidInputError('KH_OAUTH_BAD_CONTENT_TYPE', 'the request body must be application/x-www-form-urlencoded');
    }
    throw new InvalidInputError('KH_OAUTH_MISSING_GRANT_TYPE', "the request body must contain the parameter 'grant_type'");
  }
  return body as FormBody;
}

/**
 * Entra's success bodies: v1 gives numbers as strings and echoes the resource; v2 gives numbers.
 * ADFS (the shape MSAL-based tools such as the Azure CLI expect of an `/adfs` authority) gives
 * `expires_in` as a number: az's build_sdk_access_token adds it to an int, and a string
 * crashes `az account get-access-token` with a TypeError.
 */
function tokenResponse(version: TokenVersion, { issued, audience, extra }: GrantResult, endpoint: TokenEndpoint): Record<string, unknown> {
  const expiresIn = issued.expiresIn;
  if (endpoint === 'adfs') {
    return { token_type: 'Bearer', expires_in: expiresIn, resource: audience.audience, access_token: issued.token, ...extra };
  }
  if (version === '1.0') {
    return {
      token_type: 'Bearer',
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(Math.floor(issued.expiresOn.getTime() / 1000)),
      not_before: String(Math.floor(issued.notBefore.getTime() / 1000)),
      resource: audience.audience,
      access_token: issued.token,
      ...extra,
    };
  }
  return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: issued.token, ...extra };
}

const VERSION: Record<TokenEndpoint, TokenVersion> = { v2: '2.0', v1: '1.0', adfs: '1.0' };

export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app: FastifyInstance, { tokens, tenantId, publicUrl }) => {
  registerFormParser(app);
  app.setErrorHandler(oauthErrorHandler);
  const base = publicUrl.replace(/\/+$/, '');

  async function token(request: FastifyRequest, endpoint: TokenEndpoint, path: string): Promise<Record<string, unknown>> {
    const form = formOf(request);
    const grantType = form.get('grant_type');
    if (!grantType) throw new InvalidInputError('KH_OAUTH_MISSING_GRANT_TYPE', "the request body must contain the parameter 'grant_type'");
    tokens.checkGrantType(grantType); // an unknown grant is told so before its client is judged
    const result = await tokens.exchange({
      grantType,
      endpoint,
      version: VERSION[endpoint],
      endpointUrl: `${base}${path}`,
      params: form,
      client: presentedClient(form, request.headers.authorization),
      source: request.ip,
      correlationId: request.id,
    });
    return tokenResponse(VERSION[endpoint], result, endpoint);
  }

  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    checkTenant(tenantId, request.params.tenant);
    return reply.headers(noStore).send(await token(request, 'v2', `/${request.params.tenant}/oauth2/v2.0/token`));
  });
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/token', async (request, reply) => {
    checkTenant(tenantId, request.params.tenant);
    return reply.headers(noStore).send(await token(request, 'v1', `/${request.params.tenant}/oauth2/token`));
  });
  app.post('/adfs/oauth2/token', async (request, reply) => reply.headers(noStore).send(await token(request, 'adfs', '/adfs/oauth2/token')));
};
