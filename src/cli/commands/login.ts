// `keyhaven login` and `keyhaven logout`, as az's: a user signs in with the password grant
// (as az's Azure CLI public client), a service principal with client_credentials; the result
// is az's account list. Only the HTTPS client modules are loaded: this is a client command.
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
  managementResource,
  readProfile,
  requestToken,
  saveLogin,
  type Account,
  type CachedToken,
  type Profile,
} from '../login-state.js';
import { UsageError } from '../usage-error.js';

interface LoginOptions {
  server?: string;
  tenant?: string;
  username?: string;
  password?: string;
  servicePrincipal?: boolean;
  allowNoSubscriptions?: boolean;
  caFile?: string;
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
    .option('--service-principal', 'Log in as a service principal (-u APPID -p SECRET).')
    .option('--allow-no-subscriptions', 'Accepted for az compatibility: tenant-level access is kept when there is no subscription.')
    .option('--ca-file <file>', "PEM file of the CA of the server's certificate; kept for later commands.")
    .action(async (opts: LoginOptions) => ctx.print(await login(ctx, opts)));

  program
    .command('logout')
    .description('Log out: remove the login state and cached tokens.')
    .option('--username <name>', 'Accepted for az compatibility; there is one login at a time.')
    .action(async () => {
      if (!(await readProfile(ctx))) throw new Error('There are no active accounts.');
      await clearLogin(ctx);
    });
}

async function login(ctx: CliContext, opts: LoginOptions): Promise<unknown> {
  const previous = await readProfile(ctx);
  const server = opts.server ?? previous?.server;
  if (server === undefined) throw new UsageError('usage error: --server URL is required for the first login');
  if (!opts.username || opts.password === undefined || opts.password === '') {
    throw new UsageError(
      opts.servicePrincipal
        ? 'usage error: --service-principal --username APPID --password SECRET'
        : 'usage error: --username NAME --password PASSWORD',
    );
  }
  // A CA named now is kept; with the same server and no --ca-file, the last one still applies.
  const caFile = opts.caFile !== undefined ? resolve(opts.caFile) : server === previous?.server ? previous.caFile : undefined;
  const { tenantId, publicUrl } = await discover(ctx, server, opts.tenant, caFile);
  const endpoint = { server, tenantId, caFile };
  const type = opts.servicePrincipal ? 'servicePrincipal' : 'user';
  const user = { name: opts.username, type } as const;

  const tokens: CachedToken[] = [];
  if (type === 'servicePrincipal') {
    // One token proves the secret; the others are fetched when a command needs them.
    tokens.push(await requestToken(ctx, endpoint, managementResource(publicUrl), {
      grant_type: 'client_credentials',
      client_id: opts.username,
      client_secret: opts.password,
    }));
  } else {
    // No refresh token comes with the password grant: fetch now every token later commands need.
    for (const resource of [managementResource(publicUrl), directoryResource(publicUrl)]) {
      tokens.push(await requestToken(ctx, endpoint, resource, { grant_type: 'password', username: opts.username, password: opts.password }));
    }
  }

  const profile: Profile = {
    version: 1,
    server,
    publicUrl,
    tenantId,
    user,
    ...(type === 'servicePrincipal' ? { clientSecret: opts.password } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
    accounts: [tenantAccount(tenantId, user)],
  };
  await saveLogin(ctx, profile, tokens);
  try {
    const subscriptions = await listSubscriptions(new ApiClient(ctx, profile), user);
    if (subscriptions.length > 0) {
      profile.accounts = subscriptions;
      await saveLogin(ctx, profile, tokens);
    }
  } catch (err) {
    await clearLogin(ctx);
    throw err;
  }
  // az's login prints the accounts with `cloudName` where the profile says `environmentName`.
  return profile.accounts.map(({ environmentName, ...rest }) => ({ cloudName: environmentName, ...rest }));
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
