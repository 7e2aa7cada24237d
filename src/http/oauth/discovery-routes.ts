// OpenID Connect discovery (OpenID Connect Discovery 1.0 §4) and the JWKS (RFC 7517 §5), at
// Entra's paths. MSAL reads authorization_endpoint, token_endpoint, issuer and jwks_uri from
// `{authority}/v2.0/.well-known/openid-configuration` before its first token request.
import type { FastifyPluginAsync } from 'fastify';
import type { SigningKeys } from '../../tokens/signing-keys.js';
import { oauthErrorHandler } from './oauth-error.js';
import { checkTenant } from './tenant.js';

export interface DiscoveryRoutesOptions {
  publicUrl: string;
  tenantId: string;
  keys: SigningKeys;
  /** The token service's registered grants (grant-registry.ts): `grant_types_supported`. */
  grantTypes: readonly string[];
}

export const discoveryRoutes: FastifyPluginAsync<DiscoveryRoutesOptions> = async (app, { publicUrl, tenantId, keys, grantTypes }) => {
  app.setErrorHandler(oauthErrorHandler);
  const base = `${publicUrl}/${tenantId}`;

  const v2 = {
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    userinfo_endpoint: `${publicUrl}/graph/oidc/userinfo`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    grant_types_supported: [...grantTypes],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'preferred_username', 'oid', 'tid', 'email', 'groups', 'roles'],
    request_uri_parameter_supported: false,
    tenant_region_scope: null,
    cloud_instance_name: new URL(publicUrl).host,
    msgraph_host: `${new URL(publicUrl).host}/graph`,
  };
  const v1 = {
    ...v2,
    issuer: `${base}/`,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    end_session_endpoint: `${base}/oauth2/logout`,
    jwks_uri: `${base}/discovery/keys`,
    device_authorization_endpoint: `${base}/oauth2/devicecode`,
  };
  const adfs = {
    ...v1,
    issuer: `${publicUrl}/adfs`,
    authorization_endpoint: `${publicUrl}/adfs/oauth2/authorize`,
    token_endpoint: `${publicUrl}/adfs/oauth2/token`,
    end_session_endpoint: `${publicUrl}/adfs/oauth2/logout`,
    jwks_uri: `${publicUrl}/adfs/discovery/keys`,
    device_authorization_endpoint: `${publicUrl}/adfs/oauth2/devicecode`,
  };

  type Tenant = { Params: { tenant: string } };
  const cache = { 'cache-control': 'max-age=3600' };
  app.get<Tenant>('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    checkTenant(tenantId, req.params.tenant);
    return reply.headers(cache).send(v2);
  });
  app.get<Tenant>('/:tenant/.well-known/openid-configuration', async (req, reply) => {
    checkTenant(tenantId, req.params.tenant);
    return reply.headers(cache).send(v1);
  });
  app.get('/adfs/.well-known/openid-configuration', async (_req, reply) => reply.headers(cache).send(adfs));

  // Keys are fetched per request so that a rotation shows at once; clients cache them anyway.
  const jwks = async () => keys.jwks();
  app.get<Tenant>('/:tenant/discovery/v2.0/keys', async (req) => {
    checkTenant(tenantId, req.params.tenant);
    return jwks();
  });
  app.get<Tenant>('/:tenant/discovery/keys', async (req) => {
    checkTenant(tenantId, req.params.tenant);
    return jwks();
  });
  app.get('/adfs/discovery/keys', jwks);
};
