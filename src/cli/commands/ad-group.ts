// `keyhaven ad group create|update|list|show|delete` and `ad group member add|remove|list|check`, as
// az's create_group, list_groups, add_group_member, check_group_membership, … do them.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { adCommand, filterQuery, memberTable, odataString, resolveGroup, resolveMember, seg, type DirectoryObject } from '../graph.js';
import { ApiClient } from '../http-client.js';
import { addGroupPosixOptions } from '../posix-options.js';
import { UsageError } from '../usage-error.js';
import { registerGroupMfa } from './ad-mfa.js';

interface GroupOptions {
  gidNumber?: number;
  displayName?: string;
  mailNickname?: string;
  description?: string;
  force?: boolean;
  filter?: string;
  group?: string;
  memberId?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const group = adCommand(program).command('group').description('Manage security groups.');

  addGroupPosixOptions(group
    .command('create')
    .description('Create a security group.')
    .requiredOption('--display-name <name>', 'The display name.')
    .requiredOption('--mail-nickname <nickname>', 'Mail alias.')
    .option('--description <text>', 'A description.')
    .option('--force', 'Create even if a group with the same display name and mail nickname exists.'), 'create')
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      if (!opts.force) {
        // az makes create idempotent on (displayName, mailNickname), since Graph is not.
        const filter = `displayName eq ${odataString(opts.displayName!)} and mailNickname eq ${odataString(opts.mailNickname!)}`;
        const { items } = await client.graphList<DirectoryObject>(`/groups${filterQuery([filter])}`);
        if (items.length > 1) {
          throw new Error(`There is more than one group with the same display and nick names: ${items.map((g) => g.id).join(', ')}. Please delete them first.`);
        }
        if (items.length === 1) {
          ctx.warn('A group with the same display name and mail nickname already exists, returning.');
          ctx.print(items[0]);
          return;
        }
      }
      const body = {
        displayName: opts.displayName,
        mailNickname: opts.mailNickname,
        mailEnabled: false,
        securityEnabled: true,
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.gidNumber !== undefined ? { keyhavenPosix: { gidNumber: opts.gidNumber } } : {}),
      };
      ctx.print(await client.graph('POST', '/groups', body));
    });

  // az has no `ad group update`; this one PATCHes Graph's group as `ad user update` does a user.
  addGroupPosixOptions(group
    .command('update')
    .description('Update a security group.')
    .requiredOption('-g, --group <group>', "The group's object id or display name.")
    .option('--display-name <name>', 'The display name.')
    .option('--mail-nickname <nickname>', 'Mail alias (served as the cn over LDAP).')
    .option('--description <text>', "A description ('' clears it)."), 'update')
    .action(async (opts: GroupOptions) => {
      const body: Record<string, unknown> = {};
      if (opts.displayName !== undefined) body.displayName = opts.displayName;
      if (opts.mailNickname !== undefined) body.mailNickname = opts.mailNickname;
      if (opts.description !== undefined) body.description = opts.description === '' ? null : opts.description;
      if (opts.gidNumber !== undefined) body.keyhavenPosix = { gidNumber: opts.gidNumber };
      if (Object.keys(body).length === 0) {
        throw new UsageError('usage error: give at least one of --display-name, --mail-nickname, --description, --gid-number');
      }
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      // Graph answers 204; print the group as it now is, as az's update commands do.
      await client.graph('PATCH', `/groups/${seg(id)}`, body);
      ctx.print(await client.graph('GET', `/groups/${seg(id)}`));
    });

  group
    .command('list')
    .description('List groups.')
    .option('--display-name <name>', 'Only groups whose display name starts with this.')
    .option('--filter <filter>', 'OData $filter.')
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const query = filterQuery([
        opts.filter,
        opts.displayName === undefined ? undefined : `startswith(displayName,${odataString(opts.displayName)})`,
      ]);
      ctx.print((await client.graphList(`/groups${query}`)).items);
    });

  group
    .command('show')
    .description('Show a group.')
    .requiredOption('-g, --group <group>', "The group's object id or display name.")
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      ctx.print(await client.graph('GET', `/groups/${seg(id)}`));
    });

  group
    .command('delete')
    .description('Delete a group.')
    .requiredOption('-g, --group <group>', "The group's object id or display name.")
    .action(async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      await client.graph('DELETE', `/groups/${seg(id)}`);
    });

  const member = group.command('member').description('Manage group members.');
  const memberCommand = (name: string, description: string, withMember = true) => {
    const cmd = member
      .command(name)
      .description(description)
      .requiredOption('-g, --group <group>', "The group's object id or display name.");
    return withMember ? cmd.requiredOption(
      '--member-id <member>',
      'The member: an object id (user, group or service principal), a userPrincipalName, a login name, or an exact group or service principal display name.',
    ) : cmd;
  };

  memberCommand('add', 'Add a member to a group.').action(async (opts: GroupOptions) => {
    const client = await ApiClient.open(ctx);
    const id = await resolveGroup(client, opts.group!);
    // Graph's reference body: the member as a directoryObjects URL (az's _build_directory_object_json).
    const memberId = await resolveMember(client, opts.memberId!);
    await client.graph('POST', `/groups/${seg(id)}/members/$ref`, {
      '@odata.id': `${client.graphBase}/directoryObjects/${seg(memberId)}`,
    });
  });

  memberCommand('remove', 'Remove a member from a group.').action(async (opts: GroupOptions) => {
    const client = await ApiClient.open(ctx);
    const id = await resolveGroup(client, opts.group!);
    const memberId = await resolveMember(client, opts.memberId!);
    await client.graph('DELETE', `/groups/${seg(id)}/members/${seg(memberId)}/$ref`);
  });

  memberCommand('list', "List a group's direct members.", false).action(async (opts: GroupOptions) => {
    const client = await ApiClient.open(ctx);
    const id = await resolveGroup(client, opts.group!);
    ctx.print((await client.graphList(`/groups/${seg(id)}/members`)).items, { table: memberTable });
  });

  memberCommand('check', 'Check whether an object is a member of a group, directly or through nested groups.').action(
    async (opts: GroupOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      // az: POST /directoryObjects/{member}/checkMemberGroups {groupIds:[group]} → {"value": bool}.
      const memberId = await resolveMember(client, opts.memberId!);
      const answer = await client.graph<{ value?: string[] }>('POST', `/directoryObjects/${seg(memberId)}/checkMemberGroups`, {
        groupIds: [id],
      });
      const groups = (answer?.value ?? []).map((g) => g.toLowerCase());
      ctx.print({ value: groups.includes(id.toLowerCase()) });
    },
  );

  registerGroupMfa(group, ctx);
}
