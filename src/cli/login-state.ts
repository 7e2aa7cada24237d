// What `keyhaven login` leaves in $KEYHAVEN_CONFIG_DIR, and how access tokens are obtained.
//
//   profile.json      every cached login (az's azureProfile.json, plus where each login's
//                     server is): the server, the tenant, the principal, the az-shaped account
//                     list, a certificate login's PEM path — no secret. `current` names the
//                     login commands use; `keyhaven login` makes its login current.
//   token-cache.json  per login, one sealed entry (token-cache-key.ts): its access tokens with
//                     their expiry, a refresh token when the sign-in gave one, and a service
//                     principal's client secret (az keeps that in service_principal_entries).
//   cache-key         the key those entries are sealed with (no OS keyring here: see
//                     token-cache-key.ts). No token, refresh token or secret is on disk in
//                     plaintext.
//
// Every file is 0600 in a 0700 directory (config-dir.ts). A user's password is never stored.
// The state of an earlier version (one login, tokens in plaintext) is converted when read.
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { CliContext } from './context.js';
import { errorFromResponse } from './api-errors.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from './https-request.js';
import { CacheUnreadableError, cacheKey, openEntry, removeCacheKey, sealEntry } from './token-cache-key.js';
import { UsageError } from './usage-error.js';
import type { IdentitySelection } from './identity-login.js';
import { clientAssertion, JWT_BEARER_ASSERTION, type ClientCertificate } from './client-certificate.js';

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

/** One cached login. Holds no secret: those are in its sealed token-cache entry. */
export interface Profile {
  /** loginId(server, tenantId, user name): one login per principal per server and tenant. */
  id: string;
  /** Where requests go (as given to login, without a trailing slash). */
  server: string;
  /** The server's own base URL, from its token issuer: audiences are named after it. */
  publicUrl: string;
  tenantId: string;
  user: { name: string; type: PrincipalType };
  /** login --ca-file, absolute. */
  caFile?: string;
  /** A service principal's login --certificate: the PEM (key and certificate), absolute. */
  certificateFile?: string;
  /** login --identity: the metadata agent and the identity it serves (identity-login.ts). */
  identity?: IdentitySelection;
  accounts: Account[];
}

interface ProfileFile {
  version: 2;
  current?: string;
  logins: Profile[];
}

export interface CachedToken {
  /** The resource as requested (the token's `aud`). */
  resource: string;
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
}

/** What a login's sealed entry holds. */
export interface LoginSecrets {
  tokens: CachedToken[];
  /** A service principal's client secret (login --password). */
  clientSecret?: string;
  /** From a sign-in that gives one (authorization code, device code); revoked by logout. */
  refreshToken?: string;
}

interface TokenCacheFile {
  version: 2;
  /** login id → sealed LoginSecrets. */
  entries: Record<string, string>;
}

export const managementResource = (publicUrl: string): string => `${publicUrl}/`;
export const directoryResource = (publicUrl: string): string => `${publicUrl}/graph/`;
/** Key Vault's Azure audience, which every Keyhaven vault accepts (DESIGN.md, "Audiences"). */
export const VAULT_RESOURCE = 'https://vault.azure.net';

/** az's resource_to_scopes: resource + "/.default", doubling a trailing slash as az does. */
export const scopeFor = (resource: string): string => `${resource}/.default`;

/** The resource a `…/.default` scope names (az's scopes_to_resource). */
export function resourceFromScope(scope: string): string {
  if (!scope.endsWith('/.default')) {
    throw new UsageError(`the scope '${scope}' must be a resource followed by /.default`);
  }
  return scope.slice(0, -'/.default'.length);
}

/** A stable id for a principal's login on a server and tenant (user names compared as Entra does, ignoring case). */
export function loginId(server: string, tenantId: string, userName: string): string {
  return createHash('sha256').update(`${server}|${tenantId.toLowerCase()}|${userName.toLowerCase()}`).digest('hex').slice(0, 16);
}

/** Every cached login and the current one's id. */
export async function readLogins(ctx: CliContext): Promise<{ current?: string; logins: Profile[] }> {
  const file = await ctx.readState<ProfileFile | { version: 1 }>(PROFILE);
  if (file?.version === 1) return convertVersion1(ctx, file as unknown as Version1Profile);
  if (file?.version !== 2 || !Array.isArray(file.logins)) return { logins: [] };
  return { current: file.current, logins: file.logins };
}

/** The current login, if any. */
export async function readProfile(ctx: CliContext): Promise<Profile | undefined> {
  const { current, logins } = await readLogins(ctx);
  return logins.find((l) => l.id === current);
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

/** Adds (or replaces) `profile`'s login with its secrets and makes it current. */
export async function saveLogin(ctx: CliContext, profile: Profile, secrets: LoginSecrets): Promise<void> {
  // The cache entry first: a profile never names a login whose secrets are not there.
  await writeSecrets(ctx, profile.id, secrets);
  const { logins } = await readLogins(ctx);
  await ctx.writeState(PROFILE, { version: 2, current: profile.id, logins: [...logins.filter((l) => l.id !== profile.id), profile] } satisfies ProfileFile);
}

/** Rewrites a cached login's profile (its accounts: `account set`), keeping which login is current. */
export async function updateProfile(ctx: CliContext, profile: Profile): Promise<void> {
  const { current, logins } = await readLogins(ctx);
  await ctx.writeState(PROFILE, { version: 2, current, logins: logins.map((l) => (l.id === profile.id ? profile : l)) } satisfies ProfileFile);
}

/**
 * Removes a login and its cache entry. When it was current, another cached login (the most
 * recent) becomes current; when none is left, every state file (the cache key too) is removed.
 */
export async function clearLogin(ctx: CliContext, id: string): Promise<void> {
  const { current, logins } = await readLogins(ctx);
  const rest = logins.filter((l) => l.id !== id);
  if (rest.length === 0) {
    await ctx.removeState(TOKEN_CACHE);
    await ctx.removeState(PROFILE);
    await removeCacheKey(ctx.env);
    return;
  }
  const next = current === id || !rest.some((l) => l.id === current) ? rest.at(-1)!.id : current;
  await ctx.writeState(PROFILE, { version: 2, current: next, logins: rest } satisfies ProfileFile);
  const cache = await readCacheFile(ctx);
  delete cache.entries[id];
  await ctx.writeState(TOKEN_CACHE, cache);
}

/** The login's secrets: no entry is an empty cache; an entry that will not open means "log in again". */
export async function readSecrets(ctx: CliContext, profile: Profile): Promise<LoginSecrets> {
  const sealed = (await readCacheFile(ctx)).entries[profile.id];
  if (sealed === undefined) return { tokens: [] };
  const key = await cacheKey(ctx.env, false);
  const secrets = key ? openEntry<LoginSecrets>(key, profile.id, sealed) : undefined;
  if (!secrets || !Array.isArray(secrets.tokens)) {
    throw new CacheUnreadableError(`The cached sign-in of ${profile.user.name} cannot be decrypted (the cache key in ${ctx.configDir()} was removed or replaced); run 'keyhaven login' again.`);
  }
  return secrets;
}

export async function writeSecrets(ctx: CliContext, id: string, secrets: LoginSecrets): Promise<void> {
  const key = (await cacheKey(ctx.env, true))!;
  const cache = await readCacheFile(ctx);
  cache.entries[id] = sealEntry(key, id, secrets);
  await ctx.writeState(TOKEN_CACHE, cache);
}

export async function readTokens(ctx: CliContext, profile: Profile): Promise<CachedToken[]> {
  return (await readSecrets(ctx, profile)).tokens;
}

/** Caches `token` for the login, replacing its resource's and dropping expired ones. */
export async function storeToken(ctx: CliContext, profile: Profile, token: CachedToken): Promise<void> {
  const now = Date.now() / 1000;
  const secrets = await readSecrets(ctx, profile);
  secrets.tokens = [...secrets.tokens.filter((t) => t.resource !== token.resource && t.expiresOn > now), token];
  await writeSecrets(ctx, profile.id, secrets);
}

async function readCacheFile(ctx: CliContext): Promise<TokenCacheFile> {
  const file = await ctx.readState<TokenCacheFile>(TOKEN_CACHE);
  return file?.version === 2 && file.entries && typeof file.entries === 'object' ? file : { version: 2, entries: {} };
}

/** The state of the CLI before cached logins: one profile, the secret and tokens in plaintext. */
interface Version1Profile extends Omit<Profile, 'id'> {
  version: 1;
  clientSecret?: string;
}

async function convertVersion1(ctx: CliContext, old: Version1Profile): Promise<{ current?: string; logins: Profile[] }> {
  const { version: _v, clientSecret, ...rest } = old;
  const profile: Profile = { id: loginId(old.server, old.tenantId, old.user.name), ...rest };
  const plain = await ctx.readState<{ tokens?: CachedToken[] }>(TOKEN_CACHE);
  const secrets: LoginSecrets = { tokens: Array.isArray(plain?.tokens) ? plain.tokens : [], ...(clientSecret !== undefined ? { clientSecret } : {}) };
  // The plaintext cache is replaced (not merged into): rewritten sealed, then the profile.
  await ctx.writeState(TOKEN_CACHE, { version: 2, entries: {} } satisfies TokenCacheFile);
  await writeSecrets(ctx, profile.id, secrets);
  await ctx.writeState(PROFILE, { version: 2, current: profile.id, logins: [profile] } satisfies ProfileFile);
  return { current: profile.id, logins: [profile] };
}

export interface TokenEndpoint {
  server: string;
  tenantId: string;
  /** The server's public URL: a client assertion's `aud` names its token endpoint. */
  publicUrl?: string;
  caFile?: string;
  timeoutMs?: number;
}

export type TokenGrant =
  | { grant_type: 'password'; username: string; password: string }
  | { grant_type: 'client_credentials'; client_id: string; client_secret: string }
  | { grant_type: 'client_credentials'; client_id: string; certificate: ClientCertificate };

/** A v2 token request (form-urlencoded, as MSAL sends it); returns the token for `resource`. */
export async function requestToken(ctx: CliContext, endpoint: TokenEndpoint, resource: string, grant: TokenGrant): Promise<CachedToken> {
  const path = tokenPath(endpoint);
  let fields: Record<string, string>;
  if (grant.grant_type === 'password') {
    fields = { client_id: AZURE_CLI_CLIENT_ID, ...grant };
  } else if ('certificate' in grant) {
    const assertion = await clientAssertion(grant.certificate, grant.client_id, `${endpoint.publicUrl ?? endpoint.server}${path}`);
    fields = { grant_type: grant.grant_type, client_id: grant.client_id, client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion };
  } else {
    fields = { ...grant };
  }
  return (await postTokenRequest(ctx, endpoint, { ...fields, scope: scopeFor(resource) }, resource)).token;
}

/** What a user sign-in's token answer holds beyond the access token. */
export interface UserTokens {
  token: CachedToken;
  /** Present when the grant gives one (authorization code, device code, refresh). */
  refreshToken?: string;
  /** The ID token's claims (received straight from the token endpoint over TLS: OpenID Connect Core §3.1.3.7 lets a client skip its signature check then). */
  idClaims?: Record<string, unknown>;
}

/** A user sign-in's scope: the API, a refresh token, and an ID token naming the user. */
export const userScope = (resource: string): string => `${scopeFor(resource)} offline_access openid profile`;

const tokenPath = (endpoint: TokenEndpoint): string => `/${encodeURIComponent(endpoint.tenantId)}/oauth2/v2.0/token`;

/**
 * One POST to the v2 token endpoint with `fields` (scope included); the access token is cached
 * under `resource`. OAuth errors become the CLI's errors (api-errors.ts), whose text is the
 * server's error_description; nothing of the request is printed.
 */
export async function postTokenRequest(ctx: CliContext, endpoint: TokenEndpoint, fields: Record<string, string>, resource: string): Promise<UserTokens> {
  const url = `${endpoint.server}${tokenPath(endpoint)}`;
  ctx.debug(`POST ${url} (grant_type=${fields.grant_type}, scope=${fields.scope})`);
  const res = await httpsRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    timeoutMs: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    caFile: endpoint.caFile,
  });
  ctx.debug(`Response status: ${res.status}`);
  if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
  let body: { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown; id_token?: unknown };
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    throw new Error(`the token endpoint of ${endpoint.server} did not answer JSON`);
  }
  const expiresIn = Number(body.expires_in);
  if (typeof body.access_token !== 'string' || !Number.isFinite(expiresIn)) {
    throw new Error(`the token endpoint of ${endpoint.server} answered without an access token`);
  }
  const out: UserTokens = { token: { resource, accessToken: body.access_token, expiresOn: Math.floor(Date.now() / 1000 + expiresIn) } };
  if (typeof body.refresh_token === 'string') out.refreshToken = body.refresh_token;
  if (typeof body.id_token === 'string') {
    try {
      out.idClaims = decodeJwt(body.id_token) as Record<string, unknown>;
    } catch {
      throw new Error(`the token endpoint of ${endpoint.server} answered with a malformed ID token`);
    }
  }
  return out;
}

/**
 * A user's token for `resource` from their refresh token (RFC 6749 §6); the server rotates the
 * refresh token, so the new one replaces the old in the cache together with the access token.
 */
export async function refreshUserToken(ctx: CliContext, endpoint: TokenEndpoint, profile: Profile, resource: string, refreshToken: string): Promise<CachedToken> {
  const answer = await postTokenRequest(ctx, endpoint, { grant_type: 'refresh_token', client_id: AZURE_CLI_CLIENT_ID, refresh_token: refreshToken, scope: userScope(resource) }, resource);
  const now = Date.now() / 1000;
  const secrets = await readSecrets(ctx, profile);
  secrets.tokens = [...secrets.tokens.filter((t) => t.resource !== resource && t.expiresOn > now), answer.token];
  if (answer.refreshToken !== undefined) secrets.refreshToken = answer.refreshToken;
  await writeSecrets(ctx, profile.id, secrets);
  return answer.token;
}
