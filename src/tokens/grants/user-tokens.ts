// The "issue" step the user grants share (authorization code, refresh token, device code): an
// access token for the resolved audience, and as the scopes and endpoint ask — a refresh token
// (`offline_access`, or always on v1 and `/adfs`, as Entra's v1 endpoint does), an ID token
// (`openid`), MSAL's `client_info` (`{uid, utid}`, when the request sends client_info=1: MSAL
// keys its account cache by it) and the granted `scope` (RFC 6749 §5.1).
import type { AuthenticatedClient } from '../client-authentication.js';
import type { UserPrincipal } from '../token-principals.js';
import { signInDeps, type GrantDeps, type GrantRequest, type GrantResult } from './grant.js';
import type { UserAudience } from './resolve-audience.js';

export interface UserIssue {
  user: UserPrincipal;
  audience: UserAudience;
  authTime: number;
  amr: string[];
  nonce?: string;
  /** The refresh family to start (an authorization code names its own). */
  familyId?: string;
  /** A rotation's new refresh token: returned instead of starting a family. */
  rotatedRefreshToken?: string;
  /** Include an ID token even without `openid` in this request (a refresh of an OpenID sign-in). */
  idToken?: boolean;
}

export async function issueUserTokens(deps: GrantDeps, request: GrantRequest, client: AuthenticatedClient, issue: UserIssue): Promise<GrantResult & { familyId?: string }> {
  const signIn = signInDeps(deps);
  const issued = await deps.issuer.issue({
    kind: 'user',
    version: request.version,
    audience: issue.audience.audience.audience,
    clientAppId: client.appId,
    clientAuth: client.auth,
    user: issue.user,
    scp: 'user_impersonation',
    amr: issue.amr,
  });
  const extra: Record<string, string | number> = {};
  if (request.version === '2.0') extra.scope = issue.audience.scope;
  let familyId: string | undefined;
  if (issue.rotatedRefreshToken !== undefined) {
    extra.refresh_token = issue.rotatedRefreshToken;
  } else if (issue.audience.oidcScopes.includes('offline_access') || request.endpoint !== 'v2') {
    const family = await signIn.refreshTokens.startFamily({
      ...(issue.familyId !== undefined ? { familyId: issue.familyId } : {}),
      userId: issue.user.objectId, clientId: client.appId, authTime: issue.authTime, amr: issue.amr, confidential: client.method !== 'none',
    });
    familyId = family.familyId;
    extra.refresh_token = family.refreshToken;
  }
  if (issue.audience.oidcScopes.includes('openid') || issue.idToken === true) {
    extra.id_token = await signIn.idTokens.issue({
      version: request.version, clientId: client.appId, user: issue.user, authTime: issue.authTime, amr: issue.amr,
      accessToken: issued.token, scopes: issue.audience.oidcScopes,
      ...(issue.nonce !== undefined ? { nonce: issue.nonce } : {}),
    });
  }
  if (request.params.get('client_info') === '1') {
    extra.client_info = Buffer.from(JSON.stringify({ uid: issue.user.objectId, utid: String(issued.claims.tid) })).toString('base64url');
  }
  const result: GrantResult & { familyId?: string } = { issued, audience: issue.audience.audience, extra };
  if (familyId !== undefined) result.familyId = familyId;
  return result;
}
