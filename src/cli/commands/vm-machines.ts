// `keyhaven vm join-token create` and `keyhaven vm machine list|show|revoke`: machine enrollment
// as the administrator drives it, through the management API (…/generateJoinToken and
// …/machines below a virtualMachines or, with --vmss, a virtualMachineScaleSets resource).
import { Option, type Command } from 'commander';
import { parsePositiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { ApiClient } from '../http-client.js';
import { UsageError } from '../usage-error.js';

const COMPUTE_API_VERSION = '2022-11-01';

interface VmOptions {
  resourceGroup?: string;
  name?: string;
  vmss?: boolean;
  subscription?: string;
  maxUses?: number;
  expiresIn?: number;
  machineId?: string;
}

/** The `vm` group, shared with other modules that add verbs to it. */
export function vmCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'vm') ?? program.command('vm').description('Manage machines (Microsoft.Compute/virtualMachines) and their enrollment.');
}

function resourcePath(client: ApiClient, opts: VmOptions): string {
  const subscription = opts.subscription ?? client.profile.accounts.find((a) => a.isDefault)?.id ?? client.profile.accounts[0]?.id;
  if (subscription === undefined) throw new UsageError('no subscription: pass --subscription');
  const type = opts.vmss ? 'virtualMachineScaleSets' : 'virtualMachines';
  const seg = (s: string) => encodeURIComponent(s);
  return `/subscriptions/${seg(subscription)}/resourceGroups/${seg(opts.resourceGroup!)}/providers/Microsoft.Compute/${type}/${seg(opts.name!)}`;
}

function target(command: Command): Command {
  return command
    .requiredOption('-g, --resource-group <name>', 'Resource group.')
    .requiredOption('-n, --name <name>', 'Name of the VM (or, with --vmss, of the scale set).')
    .option('--vmss', 'The name is a virtual machine scale set (a pool).')
    .option('--subscription <id>', 'Subscription (default: the current one).');
}

export function register(program: Command, ctx: CliContext): void {
  const vm = vmCommand(program);
  const joinToken = vm.command('join-token').description('Join tokens: what a machine exchanges for its machine credential.');
  target(joinToken.command('create'))
    .description("Create a join token: one use for a VM; for a scale set, --max-uses machines until it expires. Shown once.")
    .addOption(new Option('--max-uses <n>', 'Scale sets: how many machines may join with it.').argParser(parsePositiveInt))
    .addOption(new Option('--expires-in <seconds>', 'Lifetime in seconds (default: the server\'s machineJoinTokenLifetimeSeconds).').argParser(parsePositiveInt))
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const body: Record<string, number> = {};
      if (opts.maxUses !== undefined) body['maxUses'] = opts.maxUses;
      if (opts.expiresIn !== undefined) body['expiresInSeconds'] = opts.expiresIn;
      const path = `${resourcePath(client, opts)}/generateJoinToken?api-version=${COMPUTE_API_VERSION}`;
      ctx.warn('The join token is shown only now; anyone holding it can join a machine until it is used or expires.');
      ctx.print(await client.request('POST', path, { resource: client.managementResource, body }));
    });

  const machine = vm.command('machine').description('Machines joined to a VM or scale set.');
  target(machine.command('list'))
    .description('List the joined machines.')
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const answer = await client.request<{ value: unknown[] }>('GET', `${resourcePath(client, opts)}/machines?api-version=${COMPUTE_API_VERSION}`, { resource: client.managementResource });
      ctx.print(answer?.value ?? []);
    });
  target(machine.command('show'))
    .description('Show one joined machine.')
    .requiredOption('--machine-id <id>', 'The machine id.')
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      ctx.print(await client.request('GET', `${resourcePath(client, opts)}/machines/${encodeURIComponent(opts.machineId!)}?api-version=${COMPUTE_API_VERSION}`, { resource: client.managementResource }));
    });
  target(machine.command('revoke'))
    .description('Revoke a machine: its next token request fails and the tokens it holds stop working at once.')
    .requiredOption('--machine-id <id>', 'The machine id.')
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      ctx.print(await client.request('POST', `${resourcePath(client, opts)}/machines/${encodeURIComponent(opts.machineId!)}/revoke?api-version=${COMPUTE_API_VERSION}`, { resource: client.managementResource }));
    });
}
