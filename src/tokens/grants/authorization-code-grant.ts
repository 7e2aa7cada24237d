// The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5–4.6), the second
// half of the browser sign-in (src/tokens/signin/browser-signin.ts makes the code). Public
// clients may redeem with their client_id alone, as Entra allows for mobile/desktop and SPA
// redirect URIs — their code always carries a PKCE challenge; a code sent to a `web` redirect
// URI of an application that holds a secret or certificate is redeemed only with it (Entra's
// AADSTS7000218).
import { UnauthenticatedError } from '../../errors.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import { matchRedirectUri } from '../signin/redirect-uris.js';
import { stillSignedIn } from '../signin/sign-in-validity.js';
import type { RedeemedCode } from '../signin/authorization-codes.js';
import { requiredParam, signInDeps, type Grant, type GrantDeps, type GrantRequest, type GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveUserAudience } from './resolve-audience.js';
import { issueUserTokens } from './user-tokens.js';

export const AUTHORIZATION_CODE = 'authorization_code';

interface CodeInput {
  code: string;
  redirectUri: string;
  verifier?: string;
}

export function authorizationCodeGrant(deps: GrantDeps): Grant {
  return {
    type: AUTHORIZATION_CODE,
    async handle(request: GrantRequest): Promise<GrantResult> {
      const input = parse(request);
      const client = await deps.clients.authenticate(request.client, request, 'registered');
      await checkConfidentialWeb(deps, client, input.redirectUri);
      const code = await signInDeps(deps).codes.redeem(input.code, client.appId, input.redirectUri, input.verifier);
      const user = await stillSignedIn(deps.principals, code.userId, code.authTime);
      const audience = await resolveUserAudience(deps.audiences, request, code.scope);
      const result = await issueUserTokens(deps, request, client, {
        user, audience, authTime: code.authTime, amr: code.amr, familyId: code.familyId, ...nonceOf(code),
      });
      await auditIssuance(deps.audit, {
        request, client, audience: audience.audience, issued: result.issued, subjectId: user.objectId,
        details: { username: user.username, amr: code.amr.join(' '), ...(result.familyId ? { family: result.familyId } : {}) },
      });
      return result;
    },
  };
}

function parse(request: GrantRequest): CodeInput {
  const input: CodeInput = { code: requiredParam(request, 'code'), redirectUri: requiredParam(request, 'redirect_uri') };
  const verifier = request.params.get('code_verifier');
  if (verifier !== undefined) input.verifier = verifier;
  return input;
}

/** A web redirect of an application with credentials is a confidential client's: its secret is required. */
async function checkConfidentialWeb(deps: GrantDeps, client: AuthenticatedClient, redirectUri: string): Promise<void> {
  if (client.method !== 'none') return;
  const registration = await deps.principals.clientRegistration(client.appId);
  if (registration && registration.hasCredentials && matchRedirectUri(registration, redirectUri) === 'web') {
    throw new UnauthenticatedError('KH_CLIENT_SECRET_REQUIRED', "The request body must contain the parameter 'client_assertion' or 'client_secret'.");
  }
}

function nonceOf(code: RedeemedCode): { nonce?: string } {
  return code.nonce === undefined ? {} : { nonce: code.nonce };
}
