// The "resolve audience" step shared by the grants: which resource the token is for.
//  - v1 (`/{tenant}/oauth2/token`): `resource=` (Entra's v1 endpoint).
//  - v2 (`/{tenant}/oauth2/v2.0/token`): `scope={resource}/.default`.
//  - `/adfs/oauth2/token`: either. ADFS takes `resource=`; MSAL-based clients (Python
//    azure-identity, the Azure CLI, @azure/identity with the tenant `adfs`) send `scope=`,
//    with the resource id's own trailing slash doubled (`https://localhost:8443//.default`,
//    as Entra accepts `https://management.core.windows.net//.default`). When both come,
//    `scope` wins, as MSAL means it.
import { InvalidInputError } from '../../errors.js';
import type { Audiences, ResolvedAudience } from '../audiences.js';
import type { GrantRequest } from './grant.js';

export async function resolveAudience(audiences: Audiences, request: GrantRequest): Promise<ResolvedAudience> {
  const resource = request.params.get('resource');
  const scope = request.params.get('scope');
  if (request.endpoint === 'v1' || (request.endpoint === 'adfs' && !scope)) {
    if (!resource) throw new InvalidInputError('KH_OAUTH_MISSING_RESOURCE', "the request body must contain the parameter 'resource'");
    return audiences.resolveResource(resource);
  }
  if (!scope) throw new InvalidInputError('KH_OAUTH_MISSING_SCOPE', "the request body must contain the parameter 'scope'");
  return audiences.resolveScope(scope);
}

/** The OpenID Connect scopes (OpenID Connect Core §5.4, §11) a user's grant may carry beside a resource. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export interface UserAudience {
  audience: ResolvedAudience;
  /** The OpenID scopes asked for, as granted. */
  oidcScopes: string[];
  /** What the response's `scope` says was granted (RFC 6749 §5.1). */
  scope: string;
}

/**
 * A user grant's audience (authorization code, refresh, device code). As Entra does: v1 and
 * `/adfs` take `resource=`; v2 a scope of OpenID scopes and at most one `{resource}/.default`;
 * OpenID scopes alone mean the directory API (Entra gives Microsoft Graph, which answers
 * userinfo). A request that names neither falls back to what the sign-in asked for (`stored`):
 * RFC 6749 §4.1.3 has no scope at code redemption, and a refresh may omit it (§6).
 */
export async function resolveUserAudience(audiences: Audiences, request: GrantRequest, stored?: string): Promise<UserAudience> {
  const resource = request.params.get('resource');
  const scope = request.params.get('scope');
  if ((request.endpoint === 'v1' || request.endpoint === 'adfs') && !scope && resource) {
    const audience = await audiences.resolveResource(resource);
    const oidcScopes = (stored ?? '').split(' ').filter((s) => (OIDC_SCOPES as readonly string[]).includes(s));
    return { audience, oidcScopes, scope: [`${audience.audience.replace(/\/$/, '')}/.default`, ...oidcScopes].join(' ') };
  }
  const requested = scope || stored;
  if (!requested) {
    if (request.endpoint === 'v2') throw new InvalidInputError('KH_OAUTH_MISSING_SCOPE', "the request body must contain the parameter 'scope'");
    throw new InvalidInputError('KH_OAUTH_MISSING_RESOURCE', "the request body must contain the parameter 'resource'");
  }
  return userScope(audiences, requested);
}

/** Parses a user's scope string: OpenID scopes and at most one `{resource}/.default`. */
export async function userScope(audiences: Audiences, scope: string): Promise<UserAudience> {
  const parts = scope.split(' ').filter((s) => s !== '');
  const oidcScopes = [...new Set(parts.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s)))];
  const resources = parts.filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s));
  const audience = resources.length === 0
    ? await audiences.resolveResource(audiences.aliases('directory')[0]!)
    : await audiences.resolveScope(resources.join(' '));
  const resourceScope = resources.length === 0 ? [] : [resources[0]!];
  return { audience: { kind: audience.kind, audience: audience.audience, ...(audience.appId ? { appId: audience.appId } : {}) }, oidcScopes, scope: [...resourceScope, ...oidcScopes].join(' ') };
}
