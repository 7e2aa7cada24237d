// Whether an earlier sign-in (a browser session, a refresh family, an approved device code)
// still counts. Entra ends them when the user is deleted or disabled, when the password is
// changed or reset, and when an administrator revokes the user's sessions (Graph
// revokeSignInSessions sets signInSessionsValidFromDateTime). Checked on every use, so no
// directory write has to find and delete them — and a refresh on another replica sees it too.
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import type { TokenPrincipals, UserPrincipal } from '../token-principals.js';

export async function stillSignedIn(principals: TokenPrincipals, userId: string, authTime: number): Promise<UserPrincipal> {
  const state = await principals.userSignInState(userId);
  if (!state) throw new InvalidInputError('KH_GRANT_REVOKED', 'The grant has been revoked: the user no longer exists. Sign in again.');
  if (!state.enabled) throw new UnauthenticatedError('KH_ACCOUNT_DISABLED', 'The user account is disabled.');
  if ((state.passwordChangedAt ?? 0) > authTime || (state.sessionsValidFrom ?? 0) > authTime) {
    throw new InvalidInputError('KH_GRANT_REVOKED', 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.');
  }
  return state.user;
}
