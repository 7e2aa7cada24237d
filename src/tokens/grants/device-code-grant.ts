// The device code grant (RFC 8628 §3.4): the device polls with its device_code until the user
// has approved on the device page (src/tokens/signin/device-authorizations.ts answers
// authorization_pending / slow_down / expired_token / access_denied).
import { stillSignedIn } from '../signin/sign-in-validity.js';
import { requiredParam, signInDeps, type Grant, type GrantDeps, type GrantRequest, type GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveUserAudience } from './resolve-audience.js';
import { issueUserTokens } from './user-tokens.js';

export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
/** MSAL (msal-common GrantType.DEVICE_CODE_GRANT) sends the short name, which Entra accepts. */
export const DEVICE_CODE_MSAL = 'device_code';

export function deviceCodeGrant(deps: GrantDeps): Grant {
  return deviceGrant(deps, DEVICE_CODE);
}

export function deviceCodeGrantMsal(deps: GrantDeps): Grant {
  return deviceGrant(deps, DEVICE_CODE_MSAL);
}

function deviceGrant(deps: GrantDeps, type: string): Grant {
  return {
    type,
    async handle(request: GrantRequest): Promise<GrantResult> {
      const deviceCode = requiredParam(request, 'device_code');
      const client = await deps.clients.authenticate(request.client, request, 'registered');
      const approved = await signInDeps(deps).devices.poll(deviceCode, client.appId);
      const user = await stillSignedIn(deps.principals, approved.userId, approved.authTime);
      const audience = await resolveUserAudience(deps.audiences, request, approved.scope);
      const result = await issueUserTokens(deps, request, client, { user, audience, authTime: approved.authTime, amr: approved.amr });
      await auditIssuance(deps.audit, {
        request, client, audience: audience.audience, issued: result.issued, subjectId: user.objectId,
        details: { username: user.username, amr: approved.amr.join(' '), ...(result.familyId ? { family: result.familyId } : {}) },
      });
      return result;
    },
  };
}
