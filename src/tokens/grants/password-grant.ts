// The resource owner password credentials grant (RFC 6749 §4.3), for scripts and the CLI.
// Entra allows it for public clients and for confidential clients that also authenticate; so
// does Keyhaven, for the Azure CLI's and PowerShell's well-known public client ids. It can be
// turned off (`passwordGrant: false`), answered then as an unsupported grant (AADSTS70003).
// A password is one factor: a user who must use a second one is refused after the right
// password as Entra refuses ROPC for such users — `invalid_grant`, AADSTS50076 ("… you must
// use multi-factor authentication to access '{resource}'.") — and must sign in through the
// browser or a device code, where the code is asked for.
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import { SecretValue } from '../../crypto/secret-value.js';
import type { ResolvedAudience } from '../audiences.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import { signInAmr } from '../token-claims.js';
import type { UserPrincipal } from '../token-principals.js';
import { requiredParam, type Grant, type GrantDeps, type GrantRequest, type GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveAudience } from './resolve-audience.js';

export const PASSWORD = 'password';

interface PasswordInput {
  username: string;
  password: SecretValue;
}

export function passwordGrant(deps: GrantDeps): Grant {
  return {
    type: PASSWORD,
    async handle(request: GrantRequest): Promise<GrantResult> {
      checkGrantEnabled(deps);
      const input = parse(request);
      const client = await deps.clients.authenticate(request.client, request, 'well-known');
      const audience = await resolveAudience(deps.audiences, request);
      const user = await deps.principals.authenticateUser(input.username, input.password, {
        source: request.source, correlationId: request.correlationId, deferSuccessAudit: true,
      });
      await checkSecondFactorNotRequired(deps, request, client, user, audience);
      // Entra's ROPC answers a user who must change the password with AADSTS50055: only an
      // interactive sign-in (the browser or device page) can ask for the new one.
      if (user.mustChangePassword) throw new UnauthenticatedError('KH_PASSWORD_CHANGE_REQUIRED', 'The password must be changed before signing in: sign in through the browser or the device page.');
      const issued = await issue(deps, request, client, user, audience);
      await auditIssuance(deps.audit, { request, client, audience, issued, subjectId: user.objectId, details: { username: user.username, amr: signInAmr().join(' ') } });
      return { issued, audience };
    },
  };
}

function checkGrantEnabled(deps: GrantDeps): void {
  if (!deps.passwordGrantEnabled) throw new InvalidInputError('KH_OAUTH_PASSWORD_GRANT_DISABLED', 'the password grant is turned off');
}

/** Entra AADSTS50076 for a user who must use a second factor; the refusal is audited (the sign-in deferred its record to us). */
async function checkSecondFactorNotRequired(deps: GrantDeps, request: GrantRequest, client: AuthenticatedClient, user: UserPrincipal, audience: ResolvedAudience): Promise<void> {
  if (!(await deps.principals.secondFactorRequired(user.objectId))) return;
  await deps.audit.record({
    actor: user.objectId, action: 'user.signin', target: user.objectId, outcome: 'denied', source: request.source, correlationId: request.correlationId,
    details: { username: user.username, grant: request.grantType, appId: client.appId, error: 'KH_MFA_REQUIRED' },
  });
  throw new UnauthenticatedError('KH_MFA_REQUIRED', `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${audience.audience}'.`);
}

function parse(request: GrantRequest): PasswordInput {
  const username = requiredParam(request, 'username');
  return { username, password: new SecretValue(requiredParam(request, 'password')) };
}

function issue(deps: GrantDeps, request: GrantRequest, client: AuthenticatedClient, user: UserPrincipal, audience: ResolvedAudience) {
  return deps.issuer.issue({
    kind: 'user',
    version: request.version,
    audience: audience.audience,
    clientAppId: client.appId,
    clientAuth: client.auth,
    user,
    scp: 'user_impersonation',
    amr: signInAmr(),
  });
}
