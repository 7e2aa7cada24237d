// `keyhaven ad sp create-for-rbac|create|list`, as az's create_service_principal_for_rbac,
// create_service_principal and list_service_principals do them.
import type { Command } from 'commander';
import { parsePositiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { CREDENTIAL_WARNING, adCommand, filterQuery, odataString, resolveApplication, seg, type DirectoryObject } from '../graph.js';
import { ApiClient } from '../http-client.js';
import { addPassword, createApplication, removePasswords, type Application } from './ad-app.js';

interface SpOptions {
  name?: string;
  years?: number;
  id?: string;
  displayName?: string;
  filter?: string;
  all?: boolean;
}

const LIST_LIMIT = 100;

/** az's default name: azure-cli-YYYY-mm-dd-HH-MM-SS (UTC). */
function defaultName(now = new Date()): string {
  return `keyhaven-${now.toISOString().slice(0, 19).replace(/[T:]/g, '-')}`;
}

async function servicePrincipalOf(client: ApiClient, appId: string): Promise<DirectoryObject | undefined> {
  const { items } = await client.graphList<DirectoryObject>(`/servicePrincipals${filterQuery([`appId eq ${odataString(appId)}`])}`);
  return items[0];
}

export function register(program: Command, ctx: CliContext): void {
  const sp = adCommand(program).command('sp').description('Manage service principals.');

  sp
    .command('create-for-rbac')
    .description('Create an application with a service principal and a password (or reset those of the one with this name).')
    .option('-n, --name <name>', 'Display name of the application (default: keyhaven-{time}).')
    .option('--years <n>', 'Years the password is valid.', parsePositiveInt, 1)
    .action(async (opts: SpOptions) => {
      const client = await ApiClient.open(ctx);
      const displayName = opts.name ?? defaultName();
      // Idempotent as az: the application with this name is reused and its passwords replaced.
      const app: Application = await createApplication(ctx, client, displayName);
      // Added before the old ones go (az removes first), so a failure never leaves none.
      const password = await addPassword(client, app, 'rbac', opts.years!);
      await removePasswords(client, app);
      // az looks for an existing SP by display name; the appId is what ties an SP to this app.
      if (!(await servicePrincipalOf(client, app.appId))) {
        await client.graph('POST', '/servicePrincipals', { appId: app.appId, accountEnabled: true });
      }
      ctx.warn(CREDENTIAL_WARNING);
      ctx.print({ appId: app.appId, displayName, password, tenant: client.tenantId });
    });

  sp
    .command('create')
    .description("Create the service principal of an application.")
    .requiredOption('--id <id>', "The application's appId, object id, api://{appId} or display name.")
    .action(async (opts: SpOptions) => {
      const client = await ApiClient.open(ctx);
      const objectId = await resolveApplication(client, opts.id!);
      const app = (await client.graph<Application>('GET', `/applications/${seg(objectId)}`))!;
      ctx.print(await client.graph('POST', '/servicePrincipals', { appId: app.appId, accountEnabled: true }));
    });

  sp
    .command('list')
    .description(`List service principals (the first ${LIST_LIMIT} unless --all or a filter is given).`)
    .option('--display-name <name>', 'Only those whose display name starts with this.')
    .option('--filter <filter>', 'OData $filter.')
    .option('--all', 'List all; may take long.')
    .action(async (opts: SpOptions) => {
      const client = await ApiClient.open(ctx);
      const query = filterQuery([
        opts.filter,
        opts.displayName === undefined ? undefined : `startswith(displayName,${odataString(opts.displayName)})`,
      ]);
      const { items, more } = await client.graphList(`/servicePrincipals${query}`, query !== '' || opts.all ? Infinity : LIST_LIMIT);
      if (more) {
        ctx.warn("The result is not complete. You can still use '--all' to get all of them with long latency expected, or provide a filter through command arguments");
      }
      ctx.print(items);
    });
}
