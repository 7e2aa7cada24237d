// `keyhaven resource list [-n NAME] [-g RG] [--resource-type T]`, as az's: ARM's resource
// listing with `$filter=name eq … and resourceType eq …`, printed as az prints generic resources
// (`az resource list -n NAME --query [*].identity.principalId` is how the seed documents find
// a machine's identity).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { API, armList, groupPath, resourceGroupOf, subscriptionId, subscriptionOption, type Json } from '../arm.js';
import { odataString } from '../graph.js';
import { ApiClient } from '../http-client.js';

interface ResourceOptions {
  name?: string;
  resourceGroup?: string;
  resourceType?: string;
  subscription?: string;
}

/** GenericResourceExpanded as az serializes it: absent fields are null. */
function genericResource(r: Json): Json {
  return { identity: null, kind: null, managedBy: null, plan: null, properties: null, sku: null, ...r, resourceGroup: resourceGroupOf(r['id']) };
}

export function register(program: Command, ctx: CliContext): void {
  const resource = program.command('resource').description('Manage resources.');
  subscriptionOption(resource
    .command('list')
    .description('List resources.')
    .option('-n, --name <name>', 'Only the resources with this name.')
    .option('-g, --resource-group <group>', 'Only the resources of this group.')
    .option('--resource-type <type>', "Only the resources of this type, e.g. 'Microsoft.Compute/virtualMachines'."))
    .action(async (opts: ResourceOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      const clauses = [
        ...(opts.name !== undefined ? [`name eq ${odataString(opts.name)}`] : []),
        ...(opts.resourceType !== undefined ? [`resourceType eq ${odataString(opts.resourceType)}`] : []),
      ];
      const base = opts.resourceGroup === undefined ? `/subscriptions/${sub}` : groupPath(sub, opts.resourceGroup);
      const filter = clauses.length === 0 ? '' : `?$filter=${encodeURIComponent(clauses.join(' and '))}`;
      ctx.print((await armList<Json>(client, `${base}/resources${filter}`, API.resources)).map(genericResource));
    });
}
