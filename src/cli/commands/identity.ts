// `keyhaven identity create|show|list|delete`: user-assigned managed identities, as az's
// `identity` verbs print them (clientId, principalId, tenantId beside id, name, resourceGroup).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { API, arm, armList, groupPath, IDENTITY_TYPE, identityJson, resourcePath, subscriptionId, subscriptionOption, type Json } from '../arm.js';
import { ApiClient } from '../http-client.js';
import { parseTags, resourceName, resourceNameOptions, type NamedResource } from './resource-args.js';

interface IdentityOptions extends NamedResource {
  location?: string;
  tags?: string[];
  subscription?: string;
}

/** az's default location: the group's. */
export async function groupLocation(client: ApiClient, subscription: string, group: string): Promise<string> {
  const found = await arm<Json>(client, 'GET', groupPath(subscription, group), API.resources);
  return String(found?.['location'] ?? '');
}

export function register(program: Command, ctx: CliContext): void {
  const identity = program.command('identity').description('Manage user-assigned managed identities.');

  subscriptionOption(identity
    .command('create')
    .description('Create an identity.')
    .requiredOption('-g, --resource-group <group>', 'Name of resource group.')
    .requiredOption('-n, --name <name>', 'The name of the identity resource.')
    .option('-l, --location <location>', "Location (default: the resource group's).")
    .option('--tags <tags...>', 'Space-separated tags: key[=value].'))
    .action(async (opts: IdentityOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      const location = opts.location ?? (await groupLocation(client, sub, opts.resourceGroup!));
      ctx.print(identityJson(await arm<Json>(client, 'PUT', resourcePath(sub, opts.resourceGroup!, IDENTITY_TYPE, opts.name!), API.identities, { location, tags: parseTags(opts.tags) })));
    });

  subscriptionOption(resourceNameOptions(identity.command('show').description('Show an identity.'), 'identity resource'))
    .action(async (opts: IdentityOptions) => {
      const client = await ApiClient.open(ctx);
      const named = resourceName(opts, IDENTITY_TYPE);
      const sub = named.subscription ?? subscriptionId(client, opts.subscription);
      ctx.print(identityJson(await arm<Json>(client, 'GET', resourcePath(sub, named.group, IDENTITY_TYPE, named.name), API.identities)));
    });

  subscriptionOption(identity
    .command('list')
    .description('List identities (in a resource group, or in the subscription).')
    .option('-g, --resource-group <group>', 'Name of resource group.'))
    .action(async (opts: IdentityOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      const base = opts.resourceGroup === undefined ? `/subscriptions/${sub}` : groupPath(sub, opts.resourceGroup);
      ctx.print((await armList<Json>(client, `${base}/providers/${IDENTITY_TYPE}`, API.identities)).map(identityJson));
    });

  subscriptionOption(resourceNameOptions(identity.command('delete').description('Delete an identity (its service principal and role assignments go with it).'), 'identity resource'))
    .action(async (opts: IdentityOptions) => {
      const client = await ApiClient.open(ctx);
      const named = resourceName(opts, IDENTITY_TYPE);
      const sub = named.subscription ?? subscriptionId(client, opts.subscription);
      await arm(client, 'DELETE', resourcePath(sub, named.group, IDENTITY_TYPE, named.name), API.identities);
    });
}
