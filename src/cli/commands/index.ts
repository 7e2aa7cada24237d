// Every command group of `keyhaven`. A module exports `register(program, ctx)`, adds its group
// with `program.command(...)`, and in its actions calls `ctx.print(result)` or throws.
//
// The groups that run the server or open its store (`serve`, `admin`, `audit`, `directory`) take every
// configuration key as a flag, so registering them loads the configuration schema and its
// validator (typebox), which is most of the CLI's start-up time. A command line that names a
// client group (`login`, `account`, `ad`, …) never needs them, so they are imported only
// when the command line may name one of them (or asks for the top-level help).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import * as account from './account.js';
import * as adApp from './ad-app.js';
import * as adGroup from './ad-group.js';
import * as adRole from './ad-role.js';
import * as adSp from './ad-sp.js';
import * as adUser from './ad-user.js';
import * as group from './group.js';
import * as identity from './identity.js';
import * as login from './login.js';
import * as agent from './agent.js';
import * as keyvault from './keyvault.js';
import * as machine from './machine.js';
import * as resource from './resource.js';
import * as role from './role.js';
import * as run from './run.js';
import * as vm from './vm.js';
import * as vmMachines from './vm-machines.js';

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

// vm before vmMachines: enrollment's verbs join the `vm` group vm.ts makes.
const clientModules: readonly CommandModule[] = [login, account, adUser, adGroup, adApp, adSp, adRole, group, identity, vm, vmMachines, resource, role, machine, agent, keyvault, run];

/** The top-level commands the client modules add. */
const CLIENT_COMMANDS = new Set(['login', 'logout', 'account', 'ad', 'group', 'identity', 'vm', 'vmss', 'resource', 'role', 'machine', 'agent', 'keyvault', 'run']);

/** Root options that take a value (as a separate argument when written without `=`). */
const ROOT_OPTIONS_WITH_VALUE = new Set(['-o', '--output', '--query']);

/**
 * The first command named on a command line in process.argv form (node, script, args…), or
 * undefined when there is none (`keyhaven`, `keyhaven --help`).
 */
export function firstCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (ROOT_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Registers the client groups, and the server-side ones unless `argv` names a client group
 * (without argv, all of them).
 */
export async function registerAll(program: Command, ctx: CliContext, argv?: readonly string[]): Promise<void> {
  const first = argv === undefined ? undefined : firstCommand(argv);
  if (first === undefined || !CLIENT_COMMANDS.has(first)) {
    const serverModules: readonly CommandModule[] = await Promise.all([
      import('./serve.js'), import('./admin.js'), import('./audit.js'), import('./directory.js'),
    ]);
    for (const module of serverModules) module.register(program, ctx);
  }
  for (const module of clientModules) module.register(program, ctx);
}
