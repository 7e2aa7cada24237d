// The userinfo endpoint (OpenID Connect Core §5.3): the signed-in user's claims for an access
// token issued for the directory API, as Entra's (https://graph.microsoft.com/oidc/userinfo)
// answers them — `sub` (the same pairwise subject as the ID token, §5.3.2), `name`,
// `given_name`, `family_name`, `email` — read from the directory now, not from the token.
import { UnauthenticatedError } from '../../errors.js';
import type { Audiences } from '../audiences.js';
import type { TokenPrincipals } from '../token-principals.js';
import type { TokenVerifier } from '../token-verifier.js';

export class UserInfo {
  constructor(private readonly o: { verifier: TokenVerifier; audiences: Audiences; principals: TokenPrincipals }) {}

  async claims(accessToken: string): Promise<Record<string, string>> {
    const token = await this.o.verifier.verify(accessToken, { audiences: this.o.audiences.acceptedAudiences('directory') });
    if (token.idtyp !== 'user') throw new UnauthenticatedError('KH_USERINFO_NOT_A_USER', 'userinfo needs an access token issued to a signed-in user.');
    const state = await this.o.principals.userSignInState(token.oid);
    if (!state || !state.enabled) throw new UnauthenticatedError('KH_CALLER_INACTIVE', 'The signed-in user or application no longer exists or is disabled.');
    const { user } = state;
    const claims: Record<string, string> = { sub: token.sub, oid: user.objectId, preferred_username: user.userPrincipalName };
    if (user.displayName) claims.name = user.displayName;
    if (user.givenName) claims.given_name = user.givenName;
    if (user.surname) claims.family_name = user.surname;
    if (user.mail) claims.email = user.mail;
    return claims;
  }
}
