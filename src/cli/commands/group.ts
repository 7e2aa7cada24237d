// `keyhaven group create|show|list|delete|exists`: resource groups, as az's `group` verbs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { API, arm, armList, groupJson, groupPath, subscriptionId, subscriptionOption, type Json } from '../arm.js';
import { ApiClient } from '../http-client.js';
import { groupName, groupNameOptions, parseTags } from './resource-args.js';

interface GroupOptions {
  name?: string;
  resourceGroup?: string;
  location?: string;
  tags?: string[];
  subscription?: string;
  yes?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('Manage resource groups.');

  subscriptionOption(groupNameOptions(group
    .command('create')
    .description('Create a new resource group (or update the tags of an existing one).'), 'Name of the new resource group.')
    .requiredOption('-l, --location <location>', "Location, e.g. 'westeurope'.")
    .option('--tags <tags...>', 'Space-separated tags: key[=value].'))
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      ctx.print(groupJson(await arm<Json>(client, 'PUT', groupPath(sub, groupName(opts)), API.resources, { location: opts.location, tags: parseTags(opts.tags) })));
    });

  subscriptionOption(groupNameOptions(group
    .command('show')
    .description('Gets a resource group.'), 'Name of resource group.'))
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      ctx.print(groupJson(await arm<Json>(client, 'GET', groupPath(subscriptionId(client, opts.subscription), groupName(opts)), API.resources)));
    });

  subscriptionOption(group
    .command('list')
    .description('List resource groups.'))
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const groups = await armList<Json>(client, `/subscriptions/${subscriptionId(client, opts.subscription)}/resourcegroups`, API.resources);
      ctx.print(groups.map(groupJson), { table: (rows) => (rows as Json[]).map((g) => ({ Name: g['name'], Location: g['location'], Status: (g['properties'] as Json | undefined)?.['provisioningState'] })) });
    });

  subscriptionOption(groupNameOptions(group
    .command('delete')
    .description('Delete a resource group and everything in it (its identities and role assignments too).'), 'Name of resource group.')
    .option('-y, --yes', 'Do not prompt for confirmation (Keyhaven never prompts; accepted for az scripts).'))
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      await arm(client, 'DELETE', groupPath(subscriptionId(client, opts.subscription), groupName(opts)), API.resources);
    });
}
