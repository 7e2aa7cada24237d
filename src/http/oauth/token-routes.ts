// The token endpoints at the paths Entra ID has them:
//   POST /{tenant}/oauth2/v2.0/token   (v2: scope=…/.default)
//   POST /{tenant}/oauth2/token        (v1: resource=…)
//   POST /adfs/oauth2/token            (the ADFS-shaped authority the Azure CLI accepts for a custom cloud)
// Each request: parse the form → authenticate the client → run the grant → answer, with
// Entra-shaped errors (oauth-error.ts). Responses are never cached (RFC 6749 §5.1).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import type { TokenVersion } from '../../tokens/token-claims.js';
import type { IssuedToken } from '../../tokens/token-issuer.js';
import type { GrantContext, TokenService } from '../../tokens/token-service.js';
import { clientCredentials } from './client-auth.js';
import { registerFormParser, type FormBody } from './form-body.js';
import { oauthErrorHandler } from './oauth-error.js';
import { checkTenant } from './tenant.js';

export interface TokenRoutesOptions {
  tokens: TokenService;
  tenantId: string;
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

function required(form: FormBody, name: string): string {
  const value = form.get(name);
  if (value === undefined || value === '') {
    throw new InvalidInputError(name === 'grant_type' ? 'KH_OAUTH_MISSING_GRANT_TYPE' : 'KH_OAUTH_MISSING_PARAMETER', `the request body must contain the parameter '${name}'`);
  }
  return value;
}

/** Entra's success bodies: v1 gives numbers as strings and echoes the resource; v2 gives numbers. */
function tokenResponse(version: TokenVersion, issued: IssuedToken, resource: string): Record<string, unknown> {
  const expiresIn = issued.expiresIn;
  if (version === '1.0') {
    return {
      token_type: 'Bearer',
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(Math.floor(issued.expiresOn.getTime() / 1000)),
      not_before: String(Math.floor(issued.notBefore.getTime() / 1000)),
      resource,
      access_token: issued.token,
    };
  }
  return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: issued.token };
}

export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app: FastifyInstance, { tokens, tenantId }) => {
  registerFormParser(app);
  app.setErrorHandler(oauthErrorHandler);

  async function token(request: FastifyRequest, version: TokenVersion): Promise<Record<string, unknown>> {
    const form = formOf(request);
    const grantType = required(form, 'grant_type');
    const ctx: GrantContext = {
      version,
      resource: form.get('resource'),
      scope: form.get('scope'),
      source: request.ip,
      correlationId: request.id,
    };
    switch (grantType) {
      case 'client_credentials': {
        const client = clientCredentials(form, request.headers.authorization);
        if (client.clientSecret === undefined) {
          throw new InvalidInputError('KH_CLIENT_SECRET_REQUIRED', "the request body must contain the parameter 'client_assertion' or 'client_secret'");
        }
        const { issued, audience } = await tokens.clientCredentials(ctx, client.clientId, client.clientSecret);
        return tokenResponse(version, issued, audience.audience);
      }
      case 'password': {
        if (!tokens.passwordGrantEnabled) throw new InvalidInputError('KH_OAUTH_PASSWORD_GRANT_DISABLED', 'the password grant is turned off');
        const client = clientCredentials(form, request.headers.authorization);
        const username = required(form, 'username');
        const password = required(form, 'password');
        const { issued, audience } = await tokens.password(ctx, client, username, password);
        return tokenResponse(version, issued, audience.audience);
      }
      default:
        throw new InvalidInputError('KH_OAUTH_UNSUPPORTED_GRANT', `the grant type '${grantType.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}' is not supported`);
    }
  }

  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    checkTenant(tenantId, request.params.tenant);
    return reply.headers(noStore).send(await token(request, '2.0'));
  });
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/token', async (request, reply) => {
    checkTenant(tenantId, request.params.tenant);
    return reply.headers(noStore).send(await token(request, '1.0'));
  });
  app.post('/adfs/oauth2/token', async (request, reply) => reply.headers(noStore).send(await token(request, '1.0')));
};
