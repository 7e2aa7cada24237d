// `keyhaven vm create|show|list|delete`, `keyhaven vm identity assign|remove` (and the older
// `vm assign-identity`), and `keyhaven vmss create|show|list|delete`. A Keyhaven "virtual
// machine" is a registered machine and a scale set a pool of them: no image, disk or network
// is made, but identities work as on Azure — `--assign-identity` with no value (or `[system]`)
// is the system-assigned identity, other values are user-assigned identities by id or by name
// in the machine's group — and the answers are shaped as az's.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { API, arm, armList, flattened, groupPath, identityIds, resourcePath, subscriptionId, subscriptionOption, type Json } from '../arm.js';
import { ApiClient } from '../http-client.js';
import { groupLocation } from './identity.js';
import { parseTags, resourceName, resourceNameOptions, type NamedResource } from './resource-args.js';

const VM = 'Microsoft.Compute/virtualMachines';
const VMSS = 'Microsoft.Compute/virtualMachineScaleSets';

interface VmOptions extends NamedResource {
  location?: string;
  tags?: string[];
  subscription?: string;
  size?: string;
  assignIdentity?: string[] | true;
  identities?: string[];
  yes?: boolean;
}

type Identity = { type?: string; principalId?: string; userAssignedIdentities?: Record<string, unknown> };

/** The identity block a create asks for (undefined: none). */
function requestedIdentity(values: string[] | true | undefined, subscription: string, group: string): Json | undefined {
  if (values === undefined) return undefined;
  const { system, ids } = identityIds(values === true ? [] : values, subscription, group);
  const type = system && ids.length > 0 ? 'SystemAssigned, UserAssigned' : system ? 'SystemAssigned' : 'UserAssigned';
  return { type, ...(ids.length > 0 ? { userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) } : {}) };
}

/** az's _construct_identity_info: what `vm identity assign` and `vm create --assign-identity` print. */
function identityInfo(identity: Identity | undefined): Json {
  return { systemAssignedIdentity: identity?.principalId ?? '', userAssignedIdentities: identity?.userAssignedIdentities ?? {} };
}

function registerKind(program: Command, ctx: CliContext, command: string, type: string, what: string): Command {
  const group = program.command(command).description(command === 'vm' ? 'Manage registered machines (virtual machines) and their identities.' : 'Manage pools of machines (virtual machine scale sets).');

  subscriptionOption(group
    .command('create')
    .description(`Register a ${what}.`)
    .requiredOption('-g, --resource-group <group>', 'Name of resource group.')
    .requiredOption('-n, --name <name>', `The name of the ${what}.`)
    .option('-l, --location <location>', "Location (default: the resource group's).")
    .option('--size <size>', 'The size (hardwareProfile.vmSize), kept as given.')
    .option('--tags <tags...>', 'Space-separated tags: key[=value].')
    .option('--assign-identity [identities...]', "Identities to assign: none or '[system]' for the system-assigned one, user-assigned ones by id or name."))
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      const group = opts.resourceGroup!;
      const location = opts.location ?? (await groupLocation(client, sub, group));
      const identity = requestedIdentity(opts.assignIdentity, sub, group);
      const properties: Json = opts.size === undefined ? {} : type === VM ? { hardwareProfile: { vmSize: opts.size } } : {};
      const body: Json = { location, tags: parseTags(opts.tags), properties, ...(identity ? { identity } : {}) };
      if (opts.size !== undefined && type === VMSS) body['sku'] = { name: opts.size, capacity: 0 };
      const created = await arm<Json>(client, 'PUT', resourcePath(sub, group, type, opts.name!), API.compute, body);
      if (type === VMSS) {
        // az vmss create prints {"vmss": {…}}.
        ctx.print({ vmss: flattened(created) });
        return;
      }
      // az vm create's summary; a registered machine has no network, so those fields are empty.
      ctx.print({
        fqdns: '',
        id: created?.['id'],
        ...(identity ? { identity: identityInfo(created?.['identity'] as Identity | undefined) } : {}),
        location: created?.['location'],
        macAddress: '',
        powerState: '',
        privateIpAddress: '',
        publicIpAddress: '',
        resourceGroup: group,
      });
    });

  subscriptionOption(resourceNameOptions(group.command('show').description(`Show a ${what}.`), what))
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const named = resourceName(opts, type);
      ctx.print(flattened(await arm<Json>(client, 'GET', resourcePath(named.subscription ?? subscriptionId(client, opts.subscription), named.group, type, named.name), API.compute)));
    });

  subscriptionOption(group
    .command('list')
    .description(`List ${what}s (in a resource group, or in the subscription).`)
    .option('-g, --resource-group <group>', 'Name of resource group.'))
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const sub = subscriptionId(client, opts.subscription);
      const base = opts.resourceGroup === undefined ? `/subscriptions/${sub}` : groupPath(sub, opts.resourceGroup);
      ctx.print((await armList<Json>(client, `${base}/providers/${type}`, API.compute)).map((r) => flattened(r)));
    });

  subscriptionOption(resourceNameOptions(group.command('delete').description(`Delete a ${what} (its system-assigned identity goes with it).`), what)
    .option('-y, --yes', 'Do not prompt for confirmation (Keyhaven never prompts; accepted for az scripts).'))
    .action(async (opts: VmOptions) => {
      const client = await ApiClient.open(ctx);
      const named = resourceName(opts, type);
      await arm(client, 'DELETE', resourcePath(named.subscription ?? subscriptionId(client, opts.subscription), named.group, type, named.name), API.compute);
    });
  return group;
}

/** az's assign_vm_identity: a PATCH adding identities to those the machine has. */
async function assignIdentities(ctx: CliContext, opts: VmOptions): Promise<void> {
  const client = await ApiClient.open(ctx);
  const named = resourceName(opts, VM);
  const sub = named.subscription ?? subscriptionId(client, opts.subscription);
  const path = resourcePath(sub, named.group, VM, named.name);
  const current = (await arm<Json>(client, 'GET', path, API.compute))?.['identity'] as Identity | undefined;
  const { system, ids } = identityIds(opts.identities ?? [], sub, named.group);
  const hasSystem = system || (current?.type ?? '').includes('SystemAssigned');
  const hasUser = ids.length > 0 || (current?.type ?? '').includes('UserAssigned');
  const type = hasSystem && hasUser ? 'SystemAssigned, UserAssigned' : hasSystem ? 'SystemAssigned' : 'UserAssigned';
  const identity: Json = { type, ...(ids.length > 0 ? { userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) } : {}) };
  const updated = await arm<Json>(client, 'PATCH', path, API.compute, { identity });
  ctx.print(identityInfo(updated?.['identity'] as Identity | undefined));
}

/** az's remove_vm_identity (_remove_identities): no --identities removes the system-assigned one. */
async function removeIdentities(ctx: CliContext, opts: VmOptions): Promise<void> {
  const client = await ApiClient.open(ctx);
  const named = resourceName(opts, VM);
  const sub = named.subscription ?? subscriptionId(client, opts.subscription);
  const path = resourcePath(sub, named.group, VM, named.name);
  const current = (await arm<Json>(client, 'GET', path, API.compute))?.['identity'] as Identity | undefined;
  if (!current) return;
  const { system, ids } = identityIds(opts.identities ?? ['[system]'], sub, named.group);
  const existing = Object.keys(current.userAssignedIdentities ?? {}).map((k) => k.toLowerCase());
  const removing = ids.map((i) => i.toLowerCase());
  const missing = removing.filter((i) => !existing.includes(i));
  if (missing.length > 0) throw new Error(`'${missing.join(',')}' are not associated with '${named.name}'`);
  const hasSystem = (current.type ?? '').includes('SystemAssigned') && !system;
  const hasUser = existing.some((i) => !removing.includes(i));
  const type = hasSystem && hasUser ? 'SystemAssigned, UserAssigned' : hasSystem ? 'SystemAssigned' : hasUser ? 'UserAssigned' : 'None';
  const identity: Json = { type, ...(hasUser && removing.length > 0 ? { userAssignedIdentities: Object.fromEntries(removing.map((id) => [id, null])) } : {}) };
  const updated = await arm<Json>(client, 'PATCH', path, API.compute, { identity });
  ctx.print(updated?.['identity'] ?? { type: 'None' });
}

function identityCommand(parent: Command, name: string, description: string, action: (opts: VmOptions) => Promise<void>): void {
  subscriptionOption(resourceNameOptions(parent.command(name).description(description), 'virtual machine')
    .option('--identities <identities...>', "Identities: '[system]' for the system-assigned one, user-assigned ones by id or name."))
    .action(action);
}

export function register(program: Command, ctx: CliContext): void {
  const vm = registerKind(program, ctx, 'vm', VM, 'virtual machine');
  const identity = vm.command('identity').description("Manage a virtual machine's managed identities.");
  identityCommand(identity, 'assign', 'Enable the system-assigned identity (no --identities) or attach user-assigned ones.', (o) => assignIdentities(ctx, o));
  identityCommand(identity, 'remove', 'Remove the system-assigned identity (no --identities) or detach user-assigned ones.', (o) => removeIdentities(ctx, o));
  identityCommand(identity, 'show', "Display the virtual machine's managed identities.", async (opts) => {
    const client = await ApiClient.open(ctx);
    const named = resourceName(opts, VM);
    const found = await arm<Json>(client, 'GET', resourcePath(named.subscription ?? subscriptionId(client, opts.subscription), named.group, VM, named.name), API.compute);
    ctx.print(found?.['identity']);
  });
  // The older verb the seed documents use (az vm assign-identity, deprecated in az for `vm identity assign`).
  identityCommand(vm, 'assign-identity', "Enable managed identities on a virtual machine (older name of 'vm identity assign').", (o) => assignIdentities(ctx, o));
  registerKind(program, ctx, 'vmss', VMSS, 'virtual machine scale set');
}
