// `keyhaven role definition list|create|delete` and `keyhaven role assignment create|list|delete`:
// Azure roles on the management plane (Microsoft.Authorization), with az's options — --role by
// name or id, --assignee as an object id, an appId or a UPN (or --assignee-object-id with
// --assignee-principal-type, which needs no directory lookup), --scope defaulting to the
// subscription — and az's output (the SDK models' flattened properties; listed assignments
// with roleDefinitionName and principalName added). Directory roles are `keyhaven ad role`.
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { expandAtFile } from '../args.js';
import type { CliContext } from '../context.js';
import { API, arm, armList, groupPath, subscriptionId, subscriptionOption, type Json } from '../arm.js';
import { isGuid, odataString, resolvePrincipal, seg } from '../graph.js';
import { ApiClient } from '../http-client.js';
import { UsageError } from '../usage-error.js';

const AUTHZ = '/providers/Microsoft.Authorization';

interface RoleOptions {
  name?: string;
  customRoleOnly?: boolean;
  scope?: string;
  resourceGroup?: string;
  subscription?: string;
  roleDefinition?: string;
  role?: string;
  assignee?: string;
  assigneeObjectId?: string;
  assigneePrincipalType?: string;
  description?: string;
  all?: boolean;
  includeInherited?: boolean;
  ids?: string[];
}

/** --scope, else -g's group, else the subscription (as az 2.45). */
function scopeOf(client: ApiClient, opts: RoleOptions): string {
  if (opts.scope !== undefined && opts.resourceGroup !== undefined) throw new UsageError('usage error: --scope and --resource-group are mutually exclusive');
  const sub = subscriptionId(client, opts.subscription);
  const scope = opts.scope ?? (opts.resourceGroup !== undefined ? groupPath(sub, opts.resourceGroup) : `/subscriptions/${sub}`);
  if (!scope.startsWith('/')) throw new UsageError("usage error: --scope must be a resource id starting with '/'");
  return scope.replace(/\/+$/, '') || '/';
}

const under = (scope: string) => (scope === '/' ? '' : scope);

/** A role definition as az prints it (properties flattened, their `type` as roleType). */
function definitionJson(d: Json): Json {
  const { properties, ...envelope } = d;
  const { type: roleType, ...props } = (properties ?? {}) as Json;
  return { ...props, roleType, ...envelope };
}

function assignmentJson(a: Json): Json {
  const { properties, ...envelope } = a;
  return { ...((properties ?? {}) as Json), ...envelope };
}

async function definitions(client: ApiClient, scope: string, filter?: string): Promise<Json[]> {
  const q = filter === undefined ? '' : `?$filter=${encodeURIComponent(filter)}`;
  return armList<Json>(client, `${under(scope)}${AUTHZ}/roleDefinitions${q}`, API.authorization);
}

/** az's _resolve_role_id: a GUID or a role definition id as it is, else the one role with that name. */
async function resolveRole(client: ApiClient, role: string, scope: string): Promise<string> {
  const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
  const prefix = sub === undefined ? '' : `/subscriptions/${sub}`;
  const last = role.split('/').pop() ?? '';
  if (isGuid(last) && (role === last || /\/providers\/Microsoft\.Authorization\/roleDefinitions\/[^/]+$/i.test(role))) return `${prefix}${AUTHZ}/roleDefinitions/${last}`;
  const found = await definitions(client, scope, `roleName eq ${odataString(role)}`);
  if (found.length === 0) throw new Error(`Role '${role}' doesn't exist.`);
  if (found.length > 1) throw new Error(`More than one role matches the given name '${role}'. Please pick an id from '${found.map((d) => d['id']).join("', '")}'`);
  return String(found[0]!['id']);
}

/** What az shows as principalName: a user's UPN, a service principal's first name (its appId), a group's display name. */
async function principalName(client: ApiClient, id: string): Promise<string> {
  for (const [path, pick] of [
    [`/users/${seg(id)}`, (o: Json) => o['userPrincipalName']],
    [`/servicePrincipals/${seg(id)}`, (o: Json) => (o['servicePrincipalNames'] as string[] | undefined)?.[0] ?? o['appId']],
    [`/groups/${seg(id)}`, (o: Json) => o['displayName']],
  ] as const) {
    const found = await client.graph<Json>('GET', path).catch(() => undefined);
    if (found) return String(pick(found) ?? '');
  }
  return '';
}

/** The assignments a list or delete names (az's _search_role_assignments). */
async function searchAssignments(client: ApiClient, opts: RoleOptions): Promise<Json[]> {
  const scope = scopeOf(client, opts);
  const principal = opts.assigneeObjectId ?? (opts.assignee !== undefined ? await resolvePrincipal(client, opts.assignee) : undefined);
  const filter = principal !== undefined ? `?$filter=${encodeURIComponent(`principalId eq '${principal}'`)}` : '';
  let found = (await armList<Json>(client, `${under(scope)}${AUTHZ}/roleAssignments${filter}`, API.authorization)).map(assignmentJson);
  const s = scope.toLowerCase();
  if (opts.all) found = found.filter((a) => String(a['scope']).toLowerCase().startsWith(s === '/' ? '/' : s));
  else if (!opts.includeInherited) found = found.filter((a) => String(a['scope']).toLowerCase() === s);
  if (opts.role !== undefined) {
    const roleId = (await resolveRole(client, opts.role, scope)).split('/').pop()!.toLowerCase();
    found = found.filter((a) => String(a['roleDefinitionId']).split('/').pop()!.toLowerCase() === roleId);
  }
  return found;
}

function parseRoleDefinition(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('usage error: --role-definition must be JSON (or @file holding JSON)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('usage error: --role-definition must be a JSON object');
  // az reads the keys ignoring case (Name or roleName, Actions, NotActions, …).
  const get = (...keys: string[]) => {
    for (const [k, v] of Object.entries(value as Json)) if (keys.includes(k.toLowerCase())) return v;
    return undefined;
  };
  const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
  const roleName = get('name', 'rolename');
  const assignableScopes = list(get('assignablescopes'));
  if (typeof roleName !== 'string' || assignableScopes.length === 0) throw new UsageError('usage error: the role definition needs a Name and AssignableScopes');
  return {
    roleName,
    description: get('description') ?? '',
    type: 'CustomRole',
    permissions: [{ actions: list(get('actions')), notActions: list(get('notactions')), dataActions: list(get('dataactions')), notDataActions: list(get('notdataactions')) }],
    assignableScopes,
  };
}

export function register(program: Command, ctx: CliContext): void {
  const role = program.command('role').description('Manage Azure roles (role definitions and role assignments at scopes).');
  const definition = role.command('definition').description('Manage role definitions.');

  subscriptionOption(definition
    .command('list')
    .description('List role definitions (built-in and custom) at a scope.')
    .option('-n, --name <name>', 'A role name or id.')
    .option('--custom-role-only', 'Only custom roles.')
    .option('--scope <scope>', 'Scope (default: the subscription).'))
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      let found = await definitions(client, scopeOf(client, opts), opts.customRoleOnly ? "type eq 'CustomRole'" : undefined);
      if (opts.name !== undefined) {
        const n = opts.name.toLowerCase();
        found = found.filter((d) => String(d['name']).toLowerCase() === n || String((d['properties'] as Json)['roleName']).toLowerCase() === n);
      }
      ctx.print(found.map(definitionJson));
    });

  subscriptionOption(definition
    .command('create')
    .description('Create a custom role definition.')
    .requiredOption('--role-definition <json>', 'The definition as JSON, or @file: Name, Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes.'))
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      const properties = parseRoleDefinition(expandAtFile(opts.roleDefinition!));
      const id = randomUUID();
      const scope = String((properties['assignableScopes'] as unknown[])[0]).replace(/\/+$/, '');
      ctx.print(definitionJson((await arm<Json>(client, 'PUT', `${under(scope)}${AUTHZ}/roleDefinitions/${id}`, API.authorization, { name: id, properties }))!));
    });

  subscriptionOption(definition
    .command('delete')
    .description('Delete a custom role definition.')
    .requiredOption('-n, --name <name>', 'The role name or id.')
    .option('--custom-role-only', 'Only custom roles (the only ones that can be deleted).')
    .option('--scope <scope>', 'Scope (default: the subscription).'))
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      const scope = scopeOf(client, opts);
      const n = opts.name!.toLowerCase();
      const found = (await definitions(client, scope, "type eq 'CustomRole'")).filter((d) => String(d['name']).toLowerCase() === n || String((d['properties'] as Json)['roleName']).toLowerCase() === n);
      if (found.length === 0) throw new Error(`Role '${opts.name}' doesn't exist.`);
      if (found.length > 1) throw new Error(`More than one role matches the given name '${opts.name}'. Please pick an id from '${found.map((d) => d['name']).join("', '")}'`);
      await arm(client, 'DELETE', `${under(scope)}${AUTHZ}/roleDefinitions/${String(found[0]!['name'])}`, API.authorization);
    });

  const assignment = role.command('assignment').description('Manage role assignments.');
  const scopeOptions = (cmd: Command) =>
    subscriptionOption(cmd
      .option('--scope <scope>', 'Scope: a subscription, resource group or resource id (default: the subscription).')
      .option('-g, --resource-group <group>', 'A resource group as the scope.'));

  scopeOptions(assignment
    .command('create')
    .description('Create a new role assignment for a user, group or service principal.')
    .requiredOption('--role <role>', 'Role name or id.')
    .option('--assignee <assignee>', "The object id, a service principal's appId, or a user's UPN.")
    .option('--assignee-object-id <id>', 'The object id (no directory lookup is made).')
    .addOption(new Option('--assignee-principal-type <type>', 'With --assignee-object-id: its type.').choices(['User', 'Group', 'ServicePrincipal', 'ForeignGroup']))
    .option('--description <text>', 'Description of the role assignment.'))
    .action(async (opts: RoleOptions) => {
      if ((opts.assignee === undefined) === (opts.assigneeObjectId === undefined)) throw new UsageError('usage error: --assignee STRING | --assignee-object-id GUID');
      if (opts.assigneeObjectId !== undefined && !isGuid(opts.assigneeObjectId)) throw new UsageError('usage error: --assignee-object-id must be an object id (a GUID)');
      const client = await ApiClient.open(ctx);
      const scope = scopeOf(client, opts);
      const roleDefinitionId = await resolveRole(client, opts.role!, scope);
      const principalId = opts.assigneeObjectId ?? (await resolvePrincipal(client, opts.assignee!));
      const properties: Json = {
        roleDefinitionId,
        principalId,
        ...(opts.assigneePrincipalType !== undefined ? { principalType: opts.assigneePrincipalType } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      };
      ctx.print(assignmentJson((await arm<Json>(client, 'PUT', `${under(scope)}${AUTHZ}/roleAssignments/${randomUUID()}`, API.authorization, { properties }))!));
    });

  scopeOptions(assignment
    .command('list')
    .description('List role assignments (at the subscription unless --scope, -g or --all).')
    .option('--assignee <assignee>', "The object id, a service principal's appId, or a user's UPN.")
    .option('--assignee-object-id <id>', 'The object id.')
    .option('--role <role>', 'Role name or id.')
    .option('--all', 'Every assignment at or below the scope.')
    .option('--include-inherited', 'Also those at scopes above.'))
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      const found = await searchAssignments(client, opts);
      const roleNames = new Map<string, string>();
      for (const d of await definitions(client, scopeOf(client, opts))) roleNames.set(String(d['name']).toLowerCase(), String((d['properties'] as Json)['roleName']));
      const names = new Map<string, string>();
      for (const a of found) {
        const p = String(a['principalId']);
        if (!names.has(p)) names.set(p, await principalName(client, p));
        a['principalName'] = names.get(p);
        a['roleDefinitionName'] = roleNames.get(String(a['roleDefinitionId']).split('/').pop()!.toLowerCase()) ?? null;
      }
      ctx.print(found);
    });

  scopeOptions(assignment
    .command('delete')
    .description('Delete role assignments (by --ids, or those matching --assignee, --role and the scope).')
    .option('--ids <ids...>', 'Role assignment ids.')
    .option('--assignee <assignee>', "The object id, a service principal's appId, or a user's UPN.")
    .option('--assignee-object-id <id>', 'The object id.')
    .option('--role <role>', 'Role name or id.'))
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      let ids = opts.ids ?? [];
      if (ids.length === 0) {
        if (opts.assignee === undefined && opts.assigneeObjectId === undefined && opts.role === undefined && opts.scope === undefined && opts.resourceGroup === undefined) {
          throw new UsageError('usage error: --ids | --assignee | --role | --scope | --resource-group');
        }
        ids = (await searchAssignments(client, opts)).map((a) => String(a['id']));
        if (ids.length === 0) throw new Error('No matched assignments were found to delete');
      }
      for (const id of ids) {
        if (!/\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`usage error: '${id}' is not a role assignment id`);
        await arm(client, 'DELETE', id, API.authorization);
      }
    });
}
