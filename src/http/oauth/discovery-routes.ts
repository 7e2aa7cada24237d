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

  // Optional endpoints are advertised only when a route answers them (OpenID Connect Discovery
  // §3: a client may call whatever is listed), checked against the server's router at the
  // first discovery request, when every plugin has registered its routes. Adding a route (the
  // browser sign-in's authorize, devicecode, logout, userinfo) is all it takes to be listed.
  // `authorization_endpoint` is the exception: Discovery §3 makes it REQUIRED, and both MSALs
  // refuse metadata without it (msal-common isOpenIdConfigResponse; MSAL Python reads
  // openid_config['authorization_endpoint']), so it is always listed.
  const host = new URL(publicUrl).host;
  const routed = (method: 'GET' | 'POST', url: string) => app.findRoute({ method, url: new URL(url).pathname }) !== null;
  function document(authority: string, paths: { authorize: string; token: string; devicecode: string; logout: string; keys: string; userinfo: string }, issuer: string) {
    const optional = (key: string, method: 'GET' | 'POST', url: string) => (routed(method, url) ? { [key]: url } : {});
    const userinfo = paths.userinfo;
    return {
      issuer,
      authorization_endpoint: `${authority}${paths.authorize}`,
      token_endpoint: `${authority}${paths.token}`,
      ...optional('device_authorization_endpoint', 'POST', `${authority}${paths.devicecode}`),
      ...optional('end_session_endpoint', 'GET', `${authority}${paths.logout}`),
      jwks_uri: `${authority}${paths.keys}`,
      ...optional('userinfo_endpoint', 'GET', userinfo),
      ...optional('revocation_endpoint', 'POST', `${authority}${paths.token.replace(/token$/, 'revoke')}`),
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
      grant_types_supported: [...grantTypes],
      // Only the code flow (with PKCE): no implicit or hybrid responses (RFC 9700 §2.1.2).
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'form_post'],
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['none', 'login', 'select_account', 'consent'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'preferred_username', 'oid', 'tid', 'email', 'groups', 'roles'],
      request_uri_parameter_supported: false,
      tenant_region_scope: null,
      cloud_instance_name: host,
      msgraph_host: `${host}/graph`,
    };
  }
  let documents: Record<'v2' | 'v1' | 'adfs', Record<string, unknown>> | undefined;
  const discovery = () =>
    (documents ??= {
      v2: document(base, { authorize: '/oauth2/v2.0/authorize', token: '/oauth2/v2.0/token', devicecode: '/oauth2/v2.0/devicecode', logout: '/oauth2/v2.0/logout', keys: '/discovery/v2.0/keys', userinfo: `${publicUrl}/graph/oidc/userinfo` }, `${base}/v2.0`),
      v1: document(base, { authorize: '/oauth2/authorize', token: '/oauth2/token', devicecode: '/oauth2/devicecode', logout: '/oauth2/logout', keys: '/discovery/keys', userinfo: `${publicUrl}/graph/oidc/userinfo` }, `${base}/`),
      adfs: document(`${publicUrl}/adfs`, { authorize: '/oauth2/authorize', token: '/oauth2/token', devicecode: '/oauth2/devicecode', logout: '/oauth2/logout', keys: '/discovery/keys', userinfo: `${publicUrl}/adfs/oauth2/userinfo` }, `${publicUrl}/adfs`),
    });

  type Tenant = { Params: { tenant: string } };
  const cache = { 'cache-control': 'max-age=3600' };
  app.get<Tenant>('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    checkTenant(tenantId, req.params.tenant);
    return reply.headers(cache).send(discovery().v2);
  });
  app.get<Tenant>('/:tenant/.well-known/openid-configuration', async (req, reply) => {
    checkTenant(tenantId, req.params.tenant);
    return reply.headers(cache).send(discovery().v1);
  });
  app.get('/adfs/.well-known/openid-configuration', async (_req, reply) => reply.headers(cache).send(discovery().adfs));

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
