// `keyhaven account show|list|set|get-access-token`, printing what az prints.
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { ApiClient } from '../http-client.js';
import { NotLoggedInError, readLogins, requireProfile, resourceFromScope, TENANT_LEVEL_ACCOUNT, updateProfile, type Account } from '../login-state.js';
import { UsageError } from '../usage-error.js';

interface TokenOptions {
  resource?: string;
  scope?: string[];
  resourceType?: 'arm' | 'ms-graph';
}

export function register(program: Command, ctx: CliContext): void {
  const account = program.command('account').description('The signed-in account.');

  account
    .command('show')
    .description('Show the current account.')
    .action(async () => {
      const profile = await requireProfile(ctx);
      ctx.print(defaultAccount(profile.accounts));
    });

  account
    .command('list')
    .description('List the accounts of every cached login; the current login\'s default account has isDefault true.')
    .action(async () => {
      const { current, logins } = await readLogins(ctx);
      if (logins.length === 0) throw new NotLoggedInError();
      // As az: `account list` names the cloud `cloudName`, `account show` `environmentName`;
      // one entry per account of each login, only the current login's default one isDefault.
      const rows = logins.flatMap((login) => {
        const byDefault = defaultAccount(login.accounts);
        return login.accounts.map((account) => {
          const { environmentName, ...rest } = account;
          return { cloudName: environmentName, ...rest, isDefault: login.id === current && account === byDefault };
        });
      });
      ctx.print(rows, { table: accountTable });
    });

  account
    .command('set')
    .description('Set a subscription to be the current active subscription.')
    .requiredOption('-s, --subscription <subscription>', 'Name or ID of subscription.')
    .action(async (opts: { subscription: string }) => {
      const profile = await requireProfile(ctx);
      // az matches the id ignoring case, else the name ignoring case; it prints nothing.
      const wanted = opts.subscription.toLowerCase();
      const subscriptions = profile.accounts.filter((a) => a.name !== TENANT_LEVEL_ACCOUNT);
      const chosen = subscriptions.find((a) => a.id.toLowerCase() === wanted) ?? subscriptions.find((a) => a.name.toLowerCase() === wanted);
      if (!chosen) throw new Error(`The subscription of '${opts.subscription}' doesn't exist in cloud '${profile.accounts[0]?.environmentName ?? 'Keyhaven'}'.`);
      profile.accounts = profile.accounts.map((a) => ({ ...a, isDefault: a === chosen }));
      await updateProfile(ctx, profile);
    });

  account
    .command('get-access-token')
    .description('Get an access token for a resource (default: the management API).')
    .option('--resource <resource>', 'The resource (audience), e.g. https://host:8443/graph/.')
    .option('--scope <scope...>', 'The scope instead of --resource: {resource}/.default.')
    .addOption(new Option('--resource-type <type>', "A known resource: 'arm' (management) or 'ms-graph' (directory).").choices(['arm', 'ms-graph']))
    .action(async (opts: TokenOptions) => {
      const given = [opts.resource, opts.scope, opts.resourceType].filter((o) => o !== undefined).length;
      if (given > 1) throw new UsageError('usage error: --resource, --scope and --resource-type are mutually exclusive');
      if (opts.scope !== undefined && opts.scope.length !== 1) throw new UsageError('usage error: a token is for one resource: give one --scope');
      const client = await ApiClient.open(ctx);
      const resource =
        opts.resource ??
        (opts.scope ? resourceFromScope(opts.scope[0]!) : opts.resourceType === 'ms-graph' ? client.directoryResource : client.managementResource);
      const token = await client.accessToken(resource);
      const subscription = defaultAccount(client.profile.accounts)?.id;
      // az's keys and formats: expiresOn in local time with microseconds, expires_on in epoch seconds.
      ctx.print({
        accessToken: token.accessToken,
        expiresOn: localTime(token.expiresOn),
        expires_on: token.expiresOn,
        ...(subscription !== undefined ? { subscription } : {}),
        tenant: client.tenantId,
        tokenType: 'Bearer',
      });
    });
}

/**
 * az's transform_account_list columns (Name, CloudName, SubscriptionId, TenantId, State,
 * IsDefault), and the user: with several cached logins, tenant-level accounts of different
 * principals would otherwise be identical rows.
 */
function accountTable(rows: unknown): unknown {
  return (rows as (Omit<Account, 'environmentName'> & { cloudName: string })[]).map((r) => ({
    Name: r.name,
    CloudName: r.cloudName,
    SubscriptionId: r.id,
    TenantId: r.tenantId,
    State: r.state,
    IsDefault: r.isDefault,
    User: r.user?.name,
  }));
}

function defaultAccount(accounts: Account[]): Account | undefined {
  return accounts.find((a) => a.isDefault) ?? accounts[0];
}

/** Python's datetime.fromtimestamp(t).strftime('%Y-%m-%d %H:%M:%S.%f'), as az prints expiresOn. */
export function localTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const micros = p((epochSeconds * 1e6) % 1e6 | 0, 6);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${micros}`;
}
