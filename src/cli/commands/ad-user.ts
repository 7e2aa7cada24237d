// `keyhaven ad user create|list|show|update|delete`: az's verbs and request bodies (az's
// create_user, update_user, list_users) against the Graph-shaped /v1.0/users.
import { Option, type Command } from 'commander';
import { expandAtFile, parseBool } from '../args.js';
import type { CliContext } from '../context.js';
import { adCommand, filterQuery, odataString, seg } from '../graph.js';
import { ApiClient } from '../http-client.js';
import { addUserPosixOptions, posixBody, USER_POSIX_FLAG_NAMES, type PosixFlags } from '../posix-options.js';
import { UsageError } from '../usage-error.js';
import { registerUserMfa } from './ad-mfa.js';

interface UserOptions extends PosixFlags {
  id?: string;
  displayName?: string;
  userPrincipalName?: string;
  password?: string;
  forceChangePasswordNextSignIn?: boolean;
  mailNickname?: string;
  accountEnabled?: boolean;
  filter?: string;
  upn?: string;
}

const passwordOption = () =>
  new Option('--password <password>', 'The password; @FILE reads it from FILE.').argParser(expandAtFile);
const forceChangeOption = () =>
  new Option('--force-change-password-next-sign-in [bool]', 'Make the user change the password at the next sign-in.').argParser(parseBool);

/**
 * Graph's /users/{id | userPrincipalName}. az writes a UPN that starts with `$` as
 * /users('…') (a Graph known issue); encoding the segment serves every name the same way.
 */
const userPath = (id: string) => `/users/${seg(id)}`;

export function register(program: Command, ctx: CliContext): void {
  const user = adCommand(program).command('user').description('Manage users.');

  const create = user
    .command('create')
    .description('Create a user.')
    .requiredOption('--display-name <name>', 'The display name.')
    .requiredOption('--user-principal-name <upn>', 'The user principal name, e.g. alice@example.org.')
    .addOption(passwordOption().makeOptionMandatory())
    .addOption(forceChangeOption())
    .option('--mail-nickname <nickname>', 'Mail alias (default: the UPN before @).');
  addUserPosixOptions(create, 'create').action(async (opts: UserOptions) => {
    const client = await ApiClient.open(ctx);
    const upn = opts.userPrincipalName!;
    const posix = posixBody(opts);
    const body = {
      accountEnabled: true,
      displayName: opts.displayName,
      mailNickname: opts.mailNickname ?? upn.split('@')[0],
      userPrincipalName: upn,
      passwordProfile: { password: opts.password, forceChangePasswordNextSignIn: opts.forceChangePasswordNextSignIn === true },
      ...(posix ? { keyhavenPosix: posix } : {}),
    };
    ctx.print(await client.graph('POST', '/users', body));
  });

  user
    .command('list')
    .description('List users.')
    .option('--filter <filter>', 'OData $filter, e.g. "accountEnabled eq true".')
    .option('--upn <upn>', 'Only the user with this principal name.')
    .option('--display-name <name>', 'Only users whose display name starts with this.')
    .action(async (opts: UserOptions) => {
      const client = await ApiClient.open(ctx);
      const query = filterQuery([
        opts.filter,
        opts.upn === undefined ? undefined : `userPrincipalName eq ${odataString(opts.upn)}`,
        opts.displayName === undefined ? undefined : `startswith(displayName,${odataString(opts.displayName)})`,
      ]);
      ctx.print((await client.graphList(`/users${query}`)).items);
    });

  user
    .command('show')
    .description('Show a user.')
    .requiredOption('--id <id>', 'Object id or user principal name.')
    .action(async (opts: UserOptions) => {
      const client = await ApiClient.open(ctx);
      ctx.print(await client.graph('GET', userPath(opts.id!)));
    });

  const update = user
    .command('update')
    .description('Update a user.')
    .requiredOption('--id <id>', 'Object id or user principal name.')
    .option('--display-name <name>', 'The display name.')
    .addOption(new Option('--account-enabled <bool>', 'Enable or disable sign-in.').argParser(parseBool))
    .addOption(passwordOption())
    .addOption(forceChangeOption())
    .option('--mail-nickname <nickname>', 'Mail alias.');
  addUserPosixOptions(update, 'update')
    .action(async (opts: UserOptions) => {
      const body: Record<string, unknown> = {};
      const posix = posixBody(opts);
      if (posix) body.keyhavenPosix = posix;
      if (opts.displayName !== undefined) body.displayName = opts.displayName;
      if (opts.accountEnabled !== undefined) body.accountEnabled = opts.accountEnabled;
      if (opts.mailNickname !== undefined) body.mailNickname = opts.mailNickname;
      if (opts.password !== undefined || opts.forceChangePasswordNextSignIn !== undefined) {
        body.passwordProfile = {
          ...(opts.password !== undefined ? { password: opts.password } : {}),
          ...(opts.forceChangePasswordNextSignIn !== undefined ? { forceChangePasswordNextSignIn: opts.forceChangePasswordNextSignIn } : {}),
        };
      }
      if (Object.keys(body).length === 0) {
        throw new UsageError(`usage error: give at least one of --display-name, --account-enabled, --password, --force-change-password-next-sign-in, --mail-nickname, ${USER_POSIX_FLAG_NAMES}`);
      }
      const client = await ApiClient.open(ctx);
      // Graph answers 204; az prints nothing.
      await client.graph('PATCH', userPath(opts.id!), body);
    });

  user
    .command('delete')
    .description('Delete a user.')
    .requiredOption('--id <id>', 'Object id or user principal name.')
    .action(async (opts: UserOptions) => {
      const client = await ApiClient.open(ctx);
      await client.graph('DELETE', userPath(opts.id!));
    });

  registerUserMfa(user, ctx);
}
