// The refresh token grant (RFC 6749 §6) with rotation and reuse detection
// (src/tokens/signin/refresh-tokens.ts). The new access token may be for any audience the
// user may use — management, directory, vault, an application — whatever the first sign-in
// asked for, as Entra's multi-resource refresh tokens are; a request naming no scope gets the
// directory API (what OpenID scopes alone mean).
import { requiredParam, signInDeps, type Grant, type GrantDeps, type GrantRequest, type GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveUserAudience } from './resolve-audience.js';
import { issueUserTokens } from './user-tokens.js';

export const REFRESH_TOKEN = 'refresh_token';

export function refreshTokenGrant(deps: GrantDeps): Grant {
  return {
    type: REFRESH_TOKEN,
    async handle(request: GrantRequest): Promise<GrantResult> {
      const token = requiredParam(request, 'refresh_token');
      const client = await deps.clients.authenticate(request.client, request, 'registered');
      // The audience is checked before the token is spent: a bad scope must not cost the client its session.
      const audience = await resolveUserAudience(deps.audiences, request, 'openid profile offline_access');
      const rotated = await signInDeps(deps).refreshTokens.rotate(token, client.appId, client.method !== 'none');
      const result = await issueUserTokens(deps, request, client, {
        user: rotated.user, audience, authTime: rotated.authTime, amr: rotated.amr, rotatedRefreshToken: rotated.refreshToken,
        idToken: request.params.get('scope') === undefined,
      });
      await auditIssuance(deps.audit, {
        request, client, audience: audience.audience, issued: result.issued, subjectId: rotated.user.objectId,
        details: { username: rotated.user.username, amr: rotated.amr.join(' '), family: rotated.familyId },
      });
      return result;
    },
  };
}
