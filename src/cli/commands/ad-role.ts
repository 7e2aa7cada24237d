// `keyhaven ad role assignment create|list|delete` and `ad role definition list`: directory
// roles (Global Administrator, User Administrator, …) through Graph's
// /roleManagement/directory. The verbs and options follow az's `role assignment` (--role NAME|ID,
// --assignee UPN|ID), which manages Azure roles the same way.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { adCommand, filterQuery, odataString, resolvePrincipal, seg } from '../graph.js';
import { ApiClient } from '../http-client.js';

interface RoleOptions {
  role?: string;
  assignee?: string;
  scope?: string;
  id?: string;
}

interface RoleDefinition {
  id: string;
  displayName?: string;
  templateId?: string;
}

interface RoleAssignment {
  id: string;
  roleDefinitionId?: string;
  principalId?: string;
  [key: string]: unknown;
}

const ROLE_MANAGEMENT = '/roleManagement/directory';

async function roleDefinitions(client: ApiClient): Promise<RoleDefinition[]> {
  return (await client.graphList<RoleDefinition>(`${ROLE_MANAGEMENT}/roleDefinitions`)).items;
}

/** az's _resolve_role_id: an id as it is, else the one definition with that name. */
function resolveRole(definitions: RoleDefinition[], role: string): RoleDefinition {
  const r = role.toLowerCase();
  const byId = definitions.find((d) => d.id.toLowerCase() === r || d.templateId?.toLowerCase() === r);
  if (byId) return byId;
  const byName = definitions.filter((d) => d.displayName?.toLowerCase() === r);
  if (byName.length === 0) throw new Error(`Role '${role}' doesn't exist.`);
  if (byName.length > 1) throw new Error(`More than one role matches the given name '${role}'. Please pick an id from '${byName.map((d) => d.id).join("', '")}'`);
  return byName[0]!;
}

/** az fills in roleDefinitionName on listed assignments so people can read them. */
function withRoleName(assignment: RoleAssignment, definitions: RoleDefinition[]): RoleAssignment {
  const id = assignment.roleDefinitionId?.toLowerCase();
  const def = definitions.find((d) => d.id.toLowerCase() === id || d.templateId?.toLowerCase() === id);
  return { ...assignment, roleDefinitionName: def?.displayName ?? null };
}

export function register(program: Command, ctx: CliContext): void {
  const role = adCommand(program).command('role').description('Manage directory roles and their assignments.');

  role
    .command('definition')
    .description('Directory role definitions.')
    .command('list')
    .description('List the directory roles.')
    .action(async () => {
      const client = await ApiClient.open(ctx);
      ctx.print(await roleDefinitions(client));
    });

  const assignment = role.command('assignment').description('Manage directory role assignments.');

  assignment
    .command('create')
    .description('Assign a directory role to a user or a service principal (Keyhaven does not assign roles to groups).')
    .requiredOption('--role <role>', 'Role name (e.g. "User Administrator") or id.')
    .requiredOption('--assignee <assignee>', "A user's UPN or object id, or a service principal's appId or object id.")
    .option('--scope <scope>', 'Directory scope.', '/')
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      const definitions = await roleDefinitions(client);
      const definition = resolveRole(definitions, opts.role!);
      const principalId = await resolvePrincipal(client, opts.assignee!);
      const created = await client.graph<RoleAssignment>('POST', `${ROLE_MANAGEMENT}/roleAssignments`, {
        roleDefinitionId: definition.id,
        principalId,
        directoryScopeId: opts.scope,
      });
      ctx.print(created && withRoleName(created, definitions));
    });

  assignment
    .command('list')
    .description('List directory role assignments.')
    .option('--role <role>', 'Only assignments of this role (name or id).')
    .option('--assignee <assignee>', 'Only assignments to this principal (UPN, appId or object id).')
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      const definitions = await roleDefinitions(client);
      const roleId = opts.role === undefined ? undefined : resolveRole(definitions, opts.role).id;
      const principalId = opts.assignee === undefined ? undefined : await resolvePrincipal(client, opts.assignee);
      const query = filterQuery([
        roleId === undefined ? undefined : `roleDefinitionId eq ${odataString(roleId)}`,
        principalId === undefined ? undefined : `principalId eq ${odataString(principalId)}`,
      ]);
      const { items } = await client.graphList<RoleAssignment>(`${ROLE_MANAGEMENT}/roleAssignments${query}`);
      ctx.print(items.map((a) => withRoleName(a, definitions)));
    });

  assignment
    .command('delete')
    .description('Delete a directory role assignment.')
    .requiredOption('--id <id>', 'The role assignment id.')
    .action(async (opts: RoleOptions) => {
      const client = await ApiClient.open(ctx);
      await client.graph('DELETE', `${ROLE_MANAGEMENT}/roleAssignments/${seg(opts.id!)}`);
    });
}
