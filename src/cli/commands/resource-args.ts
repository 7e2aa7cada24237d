// Arguments the management verbs share, read as az reads them.
import { Option, type Command } from 'commander';
import { UsageError } from '../usage-error.js';

/** az's --tags: space-separated `key[=value]` (a key alone has the empty value); `""` clears them. */
export function parseTags(tags: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) {
    if (t === '') continue;
    const i = t.indexOf('=');
    out[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  return out;
}

/** `group` verbs take the group's name as -n/--name or -g/--resource-group, as az's do. */
export function groupNameOptions(cmd: Command, description: string): Command {
  return cmd
    .option('-n, --name <name>', description)
    .addOption(new Option('-g, --resource-group <name>', 'The same as --name.').hideHelp());
}

export function groupName(opts: { name?: string; resourceGroup?: string }): string {
  const name = opts.name ?? opts.resourceGroup;
  if (name === undefined) throw new UsageError('the following arguments are required: --name/-n/--resource-group/-g');
  return name;
}

/** -g/-n of a resource, or --ids (its full id, as az takes it). */
export function resourceNameOptions(cmd: Command, what: string): Command {
  return cmd
    .option('-g, --resource-group <group>', 'Name of resource group.')
    .option('-n, --name <name>', `The name of the ${what}.`)
    .option('--ids <id>', `The ${what}'s resource id (instead of -g and -n).`);
}

export interface NamedResource {
  resourceGroup?: string;
  name?: string;
  ids?: string;
}

/** The group and name a command names, from -g/-n or --ids. */
export function resourceName(opts: NamedResource, type: string): { group: string; name: string; subscription?: string } {
  if (opts.ids !== undefined) {
    const m = new RegExp(`^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/${type.replace('.', '\\.')}/([^/]+)$`, 'i').exec(opts.ids);
    if (!m) throw new UsageError(`usage error: --ids must be the id of a ${type} resource`);
    return { subscription: m[1]!, group: decodeURIComponent(m[2]!), name: decodeURIComponent(m[3]!) };
  }
  if (opts.resourceGroup === undefined || opts.name === undefined) throw new UsageError('usage error: --ids | --name NAME --resource-group NAME');
  return { group: opts.resourceGroup, name: opts.name };
}
