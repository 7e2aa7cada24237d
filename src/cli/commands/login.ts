// `keyhaven login` and `keyhaven logout`, as az's: a user signs in in the browser or with a
// device code (interactive-login.ts; the login keeps a refresh token) or with the password
// grant (as az's Azure CLI public client), a service principal with client_credentials (secret
// or certificate); the result is az's account list. Logout revokes a refresh token's family on
// the server (session-revocation.ts). Only the HTTPS client modules are loaded: this is a client command.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import { errorFromResponse } from '../api-errors.js';
import { expandAtFile, parseServerUrl } from '../args.js';
import type { CliContext } from '../context.js';
import { ApiClient } from '../http-client.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from '../https-request.js';
import {
  CLOUD_NAME,
  TENANT_LEVEL_ACCOUNT,
  clearLogin,
  directoryResource,
  loginId,
  managementResource,
  VAULT_RESOURCE,
  readLogins,
  readProfile,
  readSecrets,
  requestToken,
  saveLogin,
  type Account,
  type CachedToken,
  type LoginSecrets,
  type Profile,
  type TokenGrant,
} from '../login-state.js';
import { readClientCertificate } from '../client-certificate.js';
import { agentServer, agentUrl, identityToken } from '../identity-login.js';
import { browserSignIn, deviceCodeSignIn } from '../interactive-login.js';
import { revokeRefreshFamily } from '../session-revocation.js';
import { UsageError } from '../usage-error.js';

interface LoginOptions {
  server?: string;
  tenant?: string;
  username?: string;
  password?: string;
  servicePrincipal?: boolean;
  certificate?: string;
  allowNoSubscriptions?: boolean;
  caFile?: string;
  useDeviceCode?: boolean;
  timeout?: number;
  identity?: boolean;
  clientId?: string;
  objectId?: string;
  resourceId?: string;
}

/** ARM's list-subscriptions api-version that az uses. */
const SUBSCRIPTIONS_API = '2022-12-01';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description('Log in to a Keyhaven server, as a user or as a service principal.')
    .option('--server <url>', 'The server, e.g. https://keyhaven.example.org:8443 (default: the last one logged in to).', parseServerUrl)
    .option('-t, --tenant <tenant>', 'The tenant id (default: the tenant the server serves).')
    .option('-u, --username <name>', 'User name, or the appId of a service principal.')
    .addOption(new Option('-p, --password <password>', 'Password, or the client secret of a service principal; @FILE reads it from FILE.').argParser(expandAtFile))
    .option('--service-principal', 'Log in as a service principal (-u APPID with -p SECRET or --certificate PEM).')
    .option('--certificate <file>', 'With --service-principal: a PEM file with the private key and the certificate registered on the application; each token request is signed with it (private_key_jwt, as MSAL sends it). The path is kept, the key is not copied.')
    .option('--allow-no-subscriptions', 'Accepted for az compatibility: tenant-level access is kept when there is no subscription.')
    .option('--ca-file <file>', "PEM file of the CA of the server's certificate; kept for later commands.")
    .option('--identity', "Log in with this machine's managed identity, through the local metadata agent (as `az login --identity`); -u/--client-id, --object-id or --resource-id pick a user-assigned identity.")
    .option('--client-id <id>', 'With --identity: the user-assigned identity by client id.')
    .option('--object-id <id>', 'With --identity: the user-assigned identity by object (principal) id.')
    .option('--resource-id <id>', 'With --identity: the user-assigned identity by resource id.')
    .option('--use-device-code', 'Sign in on another device: print a code to enter at the server\'s /devicelogin page (RFC 8628), instead of opening a browser.')
    .addOption(new Option('--timeout <seconds>', 'How long a browser or device-code sign-in waits for the user.').default(300).argParser(positiveSeconds))
    .action(async (opts: LoginOptions) => ctx.print(await login(ctx, opts)));

  program
    .command('logout')
    .description('Log out: remove a cached login and its tokens (default: the current one).')
    .option('--username <name>', 'Log out every cached login of this user or service principal, as az logout --username.')
    .action(async (opts: { username?: string }) => {
      const { current, logins } = await readLogins(ctx);
      const wanted = opts.username?.toLowerCase();
      const targets = wanted !== undefined ? logins.filter((l) => l.user.name.toLowerCase() === wanted) : logins.filter((l) => l.id === current);
      if (targets.length === 0) throw new Error(opts.username !== undefined ? `Account ${opts.username} is not logged in.` : 'There are no active accounts.');
      for (const login of targets) {
        // An unreadable cache entry has nothing left to revoke with; the login still goes.
        const secrets = await readSecrets(ctx, login).catch(() => undefined);
        try {
          await revokeRefreshFamily(ctx, login, secrets?.refreshToken);
        } catch (err) {
          ctx.warn(`the sign-in of ${login.user.name} could not be revoked on ${login.server}: ${(err as Error).message}`);
        }
        await clearLogin(ctx, login.id);
      }
    });
}

async function login(ctx: CliContext, opts: LoginOptions): Promise<unknown> {
  if (opts.identity) return identityLogin(ctx, opts);
  if (opts.clientId !== undefined || opts.objectId !== undefined || opts.resourceId !== undefined) throw new UsageError('usage error: --client-id, --object-id and --resource-id go with --identity');
  const previous = await readProfile(ctx);
  const server = opts.server ?? previous?.server;
  if (server === undefined) throw new UsageError('usage error: --server URL is required for the first login');
  const hasPassword = opts.password !== undefined && opts.password !== '';
  if (opts.certificate !== undefined && !opts.servicePrincipal) throw new UsageError('usage error: --certificate is for --service-principal logins');
  if (opts.certificate !== undefined && hasPassword) throw new UsageError('usage error: --password and --certificate are mutually exclusive');
  if (opts.useDeviceCode && (opts.servicePrincipal || opts.username !== undefined || hasPassword)) {
    throw new UsageError('usage error: --use-device-code signs a user in interactively: give no --username, --password or --service-principal');
  }
  // No credentials at all: an interactive sign-in, in the browser or with a device code (az login).
  const interactive = !opts.servicePrincipal && opts.username === undefined && !hasPassword;
  if (!interactive && (!opts.username || (!hasPassword && opts.certificate === undefined))) {
    throw new UsageError(
      opts.servicePrincipal
        ? 'usage error: --service-principal --username APPID --password SECRET | --certificate PEM'
        : 'usage error: --username NAME --password PASSWORD, or no credentials to sign in in a browser (or --use-device-code)',
    );
  }
  const certificateFile = opts.certificate !== undefined ? resolve(opts.certificate) : undefined;
  // Read before anything is sent: a wrong file is the caller's mistake.
  const certificate = certificateFile !== undefined ? await readClientCertificate(certificateFile) : undefined;
  // A CA named now is kept; with the same server and no --ca-file, the last one still applies.
  const caFile = opts.caFile !== undefined ? resolve(opts.caFile) : server === previous?.server ? previous.caFile : undefined;
  const { tenantId, publicUrl } = await discover(ctx, server, opts.tenant, caFile);
  const endpoint = { server, tenantId, publicUrl, caFile };
  const type = opts.servicePrincipal ? 'servicePrincipal' : 'user';

  const tokens: CachedToken[] = [];
  let userName = opts.username ?? '';
  let refreshToken: string | undefined;
  if (interactive) {
    const wait = { timeoutMs: 1000 * (opts.timeout ?? 300) };
    const signIn = opts.useDeviceCode
      ? await deviceCodeSignIn(ctx, endpoint, managementResource(publicUrl), wait)
      : await browserSignIn(ctx, endpoint, managementResource(publicUrl), wait);
    userName = signIn.userName;
    refreshToken = signIn.refreshToken;
    tokens.push(signIn.token);
  } else if (type === 'servicePrincipal') {
    // One token proves the credential; the others are fetched when a command needs them.
    const grant: TokenGrant = certificate
      ? { grant_type: 'client_credentials', client_id: userName, certificate }
      : { grant_type: 'client_credentials', client_id: userName, client_secret: opts.password! };
    tokens.push(await requestToken(ctx, endpoint, managementResource(publicUrl), grant));
  } else {
    // No refresh token comes with the password grant: fetch now every token later commands need.
    for (const resource of [managementResource(publicUrl), directoryResource(publicUrl), VAULT_RESOURCE]) {
      tokens.push(await requestToken(ctx, endpoint, resource, { grant_type: 'password', username: userName, password: opts.password! }));
    }
  }
  const user = { name: userName, type } as const;

  const profile: Profile = {
    id: loginId(server, tenantId, userName),
    server,
    publicUrl,
    tenantId,
    user,
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certificateFile !== undefined ? { certificateFile } : {}),
    accounts: [tenantAccount(tenantId, user)],
  };
  // A service principal's secret is sealed in the token cache with its tokens, never in profile.json.
  const secrets = {
    tokens,
    ...(type === 'servicePrincipal' && certificate === undefined ? { clientSecret: opts.password! } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
  };
  return finishLogin(ctx, profile, secrets);
}

/** `--identity`: the machine's managed identity through the metadata agent; the server is the agent's unless named. */
async function identityLogin(ctx: CliContext, opts: LoginOptions): Promise<unknown> {
  if (opts.password !== undefined || opts.servicePrincipal || opts.certificate !== undefined || opts.useDeviceCode) {
    throw new UsageError('usage error: --identity takes no --password, --service-principal, --certificate or --use-device-code');
  }
  // az 2.45 names a user-assigned identity with --username; the explicit flags are clearer.
  const clientId = opts.clientId ?? opts.username;
  const chosen = [clientId, opts.objectId, opts.resourceId].filter((v) => v !== undefined).length;
  if (chosen > 1) throw new UsageError('usage error: name a user-assigned identity once: --client-id, --object-id or --resource-id');
  const agent = agentUrl(ctx.env);
  const server = opts.server ?? (await agentServer(ctx, agent));
  const previous = await readProfile(ctx);
  const caFile = opts.caFile !== undefined ? resolve(opts.caFile) : server === previous?.server ? previous.caFile : undefined;
  const { tenantId, publicUrl } = await discover(ctx, server, opts.tenant, caFile);
  const identity = { agent, ...(clientId !== undefined ? { clientId } : {}), ...(opts.objectId !== undefined ? { objectId: opts.objectId } : {}), ...(opts.resourceId !== undefined ? { resourceId: opts.resourceId } : {}) };
  const token = await identityToken(ctx, identity, managementResource(publicUrl));
  // az's names for these accounts.
  const user = { name: chosen > 0 ? 'userAssignedIdentity' : 'systemAssignedIdentity', type: 'servicePrincipal' } as const;
  const profile: Profile = {
    id: loginId(server, tenantId, `${user.name}|${clientId ?? opts.objectId ?? opts.resourceId ?? ''}`), server, publicUrl, tenantId, user,
    ...(caFile !== undefined ? { caFile } : {}), identity, accounts: [tenantAccount(tenantId, user)],
  };
  const secrets = { tokens: [token] };
  return finishLogin(ctx, profile, secrets);
}

/**
 * Saves the login, then lists the subscriptions the principal sees (az does it right after
 * signing in) and keeps them as its accounts; a failure there leaves no half-made login.
 * Returns az's login output: the accounts, with `cloudName` where the profile says `environmentName`.
 */
async function finishLogin(ctx: CliContext, profile: Profile, secrets: LoginSecrets): Promise<unknown> {
  await saveLogin(ctx, profile, secrets);
  try {
    const subscriptions = await listSubscriptions(new ApiClient(ctx, profile), profile.user);
    if (subscriptions.length > 0) {
      profile.accounts = subscriptions;
      await saveLogin(ctx, profile, secrets);
    }
  } catch (err) {
    await clearLogin(ctx, profile.id);
    throw err;
  }
  return profile.accounts.map(({ environmentName, ...rest }) => ({ cloudName: environmentName, ...rest }));
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new UsageError(`usage error: --timeout takes seconds from 1 to 3600, not '${value}'`);
  return n;
}

/**
 * The tenant and the server's public URL, from OpenID discovery: the issuer is
 * `{publicUrl}/{tenantId}/v2.0`. Without --tenant, Entra's `organizations` alias is asked, which
 * answers with the one tenant the server serves.
 */
async function discover(ctx: CliContext, server: string, tenant: string | undefined, caFile: string | undefined) {
  const url = `${server}/${encodeURIComponent(tenant ?? 'organizations')}/v2.0/.well-known/openid-configuration`;
  ctx.debug(`GET ${url}`);
  const res = await httpsRequest({ method: 'GET', url, timeoutMs: DEFAULT_TIMEOUT_MS, caFile });
  ctx.debug(`Response status: ${res.status}`);
  if (res.status === 404) throw new Error(`${server} has no OpenID configuration at ${new URL(url).pathname}; is it a Keyhaven server?`);
  if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
  let issuer: unknown;
  try {
    issuer = (JSON.parse(res.text) as { issuer?: unknown }).issuer;
  } catch {
    issuer = undefined;
  }
  const match = typeof issuer === 'string' ? /^(https:\/\/[^?#]+?)\/([^/?#]+)\/v2\.0$/.exec(issuer) : null;
  if (!match) throw new Error(`the OpenID configuration of ${server} has no issuer of the form https://host/{tenant}/v2.0`);
  return { publicUrl: match[1]!, tenantId: match[2]! };
}

function tenantAccount(tenantId: string, user: Account['user']): Account {
  return {
    environmentName: CLOUD_NAME,
    homeTenantId: tenantId,
    id: tenantId,
    isDefault: true,
    managedByTenants: [],
    name: TENANT_LEVEL_ACCOUNT,
    state: 'Enabled',
    tenantId,
    user,
  };
}

interface ArmSubscription {
  subscriptionId?: string;
  displayName?: string;
  state?: string;
  tenantId?: string;
}

/**
 * az lists the subscriptions the principal can see (ARM `GET /subscriptions`). A server whose
 * management API is not there yet (404), or a principal with no management access (403), gets
 * the tenant-level account that az gives with --allow-no-subscriptions.
 */
async function listSubscriptions(client: ApiClient, user: Account['user']): Promise<Account[]> {
  let page: { value?: ArmSubscription[] } | undefined;
  try {
    page = await client.request('GET', `/subscriptions?api-version=${SUBSCRIPTIONS_API}`, { resource: client.managementResource });
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ForbiddenError) return [];
    throw err;
  }
  const subs = (page?.value ?? []).filter((s) => typeof s.subscriptionId === 'string');
  return subs.map((s, i) => ({
    environmentName: CLOUD_NAME,
    homeTenantId: s.tenantId ?? client.tenantId,
    id: s.subscriptionId!,
    isDefault: i === 0,
    managedByTenants: [],
    name: s.displayName ?? s.subscriptionId!,
    state: s.state ?? 'Enabled',
    tenantId: s.tenantId ?? client.tenantId,
    user,
  }));
}
