// `keyhaven logout` ends a login on the server as well as on disk: a login that holds a
// refresh token (browser and device-code sign-in) has that token's whole refresh family
// revoked (RFC 7009 at `/{tenant}/oauth2/v2.0/revoke`, as the Azure CLI's public client), so a
// copy of the cache taken before the logout is worth nothing afterwards. Logout removes the
// local login whatever this returns (az's logout is local only): a failure is reported as a
// warning, never keeps the tokens on disk.
import { errorFromResponse } from './api-errors.js';
import type { CliContext } from './context.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from './https-request.js';
import { AZURE_CLI_CLIENT_ID, type Profile } from './login-state.js';

export type RevocationOutcome = 'revoked' | 'nothing-to-revoke';

export async function revokeRefreshFamily(ctx: CliContext, profile: Profile, refreshToken: string | undefined): Promise<RevocationOutcome> {
  if (refreshToken === undefined) return 'nothing-to-revoke';
  const url = `${profile.server}/${encodeURIComponent(profile.tenantId)}/oauth2/v2.0/revoke`;
  ctx.debug(`POST ${url} (token_type_hint=refresh_token)`);
  const res = await httpsRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: AZURE_CLI_CLIENT_ID }).toString(),
    timeoutMs: DEFAULT_TIMEOUT_MS,
    caFile: profile.caFile,
  });
  ctx.debug(`Response status: ${res.status}`);
  // RFC 7009 §2.2: 200 whether or not the token was still valid.
  if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
  return 'revoked';
}
