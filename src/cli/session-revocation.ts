// `keyhaven logout` ends a login on the server as well as on disk: a login that holds a
// refresh token (browser and device-code sign-in, branch token-browser) must have that token's
// whole refresh family revoked server-side, so a copy of the cache taken before the logout is
// worth nothing afterwards (issue 9, item 8).
//
// HOOK FOR THE REFRESH-TOKEN GRANT: `revokeRefreshFamily` is the one place logout calls. Today
// no login keeps a refresh token (the password and client-credentials grants give none), so it
// has nothing to do. When the refresh-token grant lands, send the revocation here — RFC 7009
// (`POST {server}/{tenant}/oauth2/v2.0/revoke`, `token=…&token_type_hint=refresh_token`,
// `client_id` = the Azure CLI's) or whatever endpoint that branch exposes — and return
// 'revoked'. Logout removes the local login whatever this returns (az's logout is local too):
// a failure is reported as a warning, never keeps the tokens on disk.
import type { CliContext } from './context.js';
import type { Profile } from './login-state.js';

export type RevocationOutcome = 'revoked' | 'nothing-to-revoke' | 'unsupported';

export async function revokeRefreshFamily(ctx: CliContext, profile: Profile, refreshToken: string | undefined): Promise<RevocationOutcome> {
  if (refreshToken === undefined) return 'nothing-to-revoke';
  ctx.debug(`the refresh token of ${profile.user.name} is not revoked on ${profile.server}: this version has no revocation endpoint to call`);
  return 'unsupported';
}
