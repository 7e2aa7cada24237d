// What `keyhaven login` leaves in $KEYHAVEN_CONFIG_DIR, and how access tokens are obtained.
//
//   profile.json      the server, the tenant, the signed-in principal, the az-shaped account
//                     list; for a service principal also its client secret
//   token-cache.json  access tokens per resource, with their expiry
//
// Both files are 0600 in a 0700 directory (config-dir.ts). Like az, which keeps a service
// principal's secret in its own service_principal_entries file protected only by file mode,
// the secret is stored so that tokens for any audience can be fetched on demand. A user's
// password is never stored: the password grant gives no refresh token, so a user's tokens
// (management and directory, fetched at login) are usable until they expire, and then the user
// logs in again.
import type { CliContext } from './context.js';
import { errorFromResponse } from './api-errors.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from './https-request.js';
import { UsageError } from './usage-error.js';

/** The Azure CLI's public client id, which the token service accepts without a secret. */
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
/** az's cloudName / environmentName for this "cloud". */
export const CLOUD_NAME = 'Keyhaven';
/** az's account name when a tenant has no subscription (`--allow-no-subscriptions`). */
export const TENANT_LEVEL_ACCOUNT = 'N/A(tenant level account)';

const PROFILE = 'profile';
const TOKEN_CACHE = 'token-cache';

export type PrincipalType = 'user' | 'servicePrincipal';

/** An entry of az's azureProfile.json "subscriptions" (keys in az's sorted order). */
export interface Account {
  environmentName: string;
  homeTenantId: string;
  id: string;
  isDefault: boolean;
  managedByTenants: unknown[];
  name: string;
  state: string;
  tenantId: string;
  user: { name: string; type: PrincipalType };
}

export interface Profile {
  version: 1;
  /** Where requests go (as given to login, without a trailing slash). */
  server: string;
  /** The server's own base URL, from its token issuer: audiences are named after it. */
  publicUrl: string;
  tenantId: string;
  user: { name: string; type: PrincipalType };
  /** Service principals only; see the file comment. */
  clientSecret?: string;
  /** login --ca-file, absolute. */
  caFile?: string;
  accounts: Account[];
}

export interface CachedToken {
  /** The resource as requested (the token's `aud`). */
  resource: string;
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
}

interface TokenCache {
  tokens: CachedToken[];
}

export const managementResource = (publicUrl: string): string => `${publicUrl}/`;
export const directoryResource = (publicUrl: string): string => `${publicUrl}/graph/`;

/** az's resource_to_scopes: resource + "/.default", doubling a trailing slash as az does. */
export const scopeFor = (resource: string): string => `${resource}/.default`;

/** The resource a `…/.default` scope names (az's scopes_to_resource). */
export function resourceFromScope(scope: string): string {
  if (!scope.endsWith('/.default')) {
    throw new UsageError(`the scope '${scope}' must be a resource followed by /.default`);
  }
  return scope.slice(0, -'/.default'.length);
}

export async function readProfile(ctx: CliContext): Promise<Profile | undefined> {
  const profile = await ctx.readState<Profile>(PROFILE);
  return profile?.version === 1 ? profile : undefined;
}

/** az's wording when there is no account: scripts and people already know it. */
export class NotLoggedInError extends Error {
  constructor() {
    super("Please run 'keyhaven login' to setup account.");
    this.name = 'NotLoggedInError';
  }
}

export async function requireProfile(ctx: CliContext): Promise<Profile> {
  const profile = await readProfile(ctx);
  if (!profile) throw new NotLoggedInError();
  return profile;
}

export async function saveLogin(ctx: CliContext, profile: Profile, tokens: CachedToken[]): Promise<void> {
  // Tokens first: a profile never points at another login's tokens.
  await ctx.writeState(TOKEN_CACHE, { tokens } satisfies TokenCache);
  await ctx.writeState(PROFILE, profile);
}

export async function clearLogin(ctx: CliContext): Promise<void> {
  await ctx.removeState(TOKEN_CACHE);
  await ctx.removeState(PROFILE);
}

export async function readTokens(ctx: CliContext): Promise<CachedToken[]> {
  const cache = await ctx.readState<TokenCache>(TOKEN_CACHE);
  return Array.isArray(cache?.tokens) ? cache.tokens : [];
}

export async function storeToken(ctx: CliContext, token: CachedToken): Promise<void> {
  const now = Date.now() / 1000;
  const others = (await readTokens(ctx)).filter((t) => t.resource !== token.resource && t.expiresOn > now);
  await ctx.writeState(TOKEN_CACHE, { tokens: [...others, token] } satisfies TokenCache);
}

export interface TokenEndpoint {
  server: string;
  tenantId: string;
  caFile?: string;
  timeoutMs?: number;
}

/** A v2 token request (form-urlencoded, as MSAL sends it); returns the token for `resource`. */
export async function requestToken(
  ctx: CliContext,
  endpoint: TokenEndpoint,
  resource: string,
  grant: { grant_type: 'password'; username: string; password: string } | { grant_type: 'client_credentials'; client_id: string; client_secret: string },
): Promise<CachedToken> {
  const url = `${endpoint.server}/${encodeURIComponent(endpoint.tenantId)}/oauth2/v2.0/token`;
  const form = new URLSearchParams({
    ...(grant.grant_type === 'password' ? { client_id: AZURE_CLI_CLIENT_ID } : {}),
    ...grant,
    scope: scopeFor(resource),
  });
  ctx.debug(`POST ${url} (grant_type=${grant.grant_type}, scope=${scopeFor(resource)})`);
  const res = await httpsRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    timeoutMs: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    caFile: endpoint.caFile,
  });
  ctx.debug(`Response status: ${res.status}`);
  if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    throw new Error(`the token endpoint of ${endpoint.server} did not answer JSON`);
  }
  const expiresIn = Number(body.expires_in);
  if (typeof body.access_token !== 'string' || !Number.isFinite(expiresIn)) {
    throw new Error(`the token endpoint of ${endpoint.server} answered without an access token`);
  }
  return { resource, accessToken: body.access_token, expiresOn: Math.floor(Date.now() / 1000 + expiresIn) };
}
