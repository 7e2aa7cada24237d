// The POSIX flags of `ad user create|update` and `ad group create|update`: Keyhaven's
// `keyhavenPosix` property of Graph's user and group (README, "POSIX accounts"). Numbers are
// checked here only as integers (exit 2 otherwise); their range and every other rule are the
// server's, so the CLI and the API refuse the same things with the same message.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { expandAtFile } from './args.js';

export interface PosixFlags {
  uidNumber?: number;
  gidNumber?: number;
  primaryGroup?: string;
  homeDirectory?: string;
  loginShell?: string;
  sshPublicKey?: string[];
}

function parseId(value: string): number {
  if (!/^\d{1,10}$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number');
  return Number(value.trim());
}

/**
 * One key line, or `@FILE` (such as `@~/.ssh/id_ed25519.pub`: every non-empty line of it);
 * repeatable, collecting every key given. An empty value alone clears the keys on update.
 */
function collectKeys(value: string, previous: string[] | undefined): string[] {
  const lines = expandAtFile(value).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return [...(previous ?? []), ...lines];
}

/** `create` documents the defaults a new user gets; `update` changes only what is given. */
export function addUserPosixOptions(cmd: Command, mode: 'create' | 'update'): Command {
  const fresh = (text: string) => (mode === 'create' ? ` (default: ${text})` : '');
  return cmd
    .addOption(new Option('--uid-number <n>', `POSIX uidNumber${fresh('the next free id from 10000')}.`).argParser(parseId))
    .addOption(new Option('--gid-number <n>', `POSIX gidNumber of the user's primary group${fresh("the uidNumber, served as the user's private group")}.`).argParser(parseId))
    .option('--primary-group <group>', "The primary group by object id or mail nickname: sets gidNumber to that group's.")
    .option('--home-directory <path>', `POSIX homeDirectory${fresh('/home/{name}')}.`)
    .option('--login-shell <path>', `POSIX loginShell${fresh('/bin/bash')}.`)
    .addOption(new Option('--ssh-public-key <key>', mode === 'create'
      ? 'An OpenSSH public key line, or @FILE (one key a line); repeat for several.'
      : "An OpenSSH public key line, or @FILE (one key a line); repeat for several. The keys given replace the user's ('' clears them).").argParser(collectKeys));
}

export function addGroupPosixOptions(cmd: Command, mode: 'create' | 'update'): Command {
  return cmd.addOption(new Option('--gid-number <n>', `POSIX gidNumber${mode === 'create' ? ' (default: the next free id from 10000)' : ''}.`).argParser(parseId));
}

/** The keyhavenPosix object the flags given make, or undefined when none was. */
export function posixBody(flags: PosixFlags): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  if (flags.uidNumber !== undefined) body.uidNumber = flags.uidNumber;
  if (flags.gidNumber !== undefined) body.gidNumber = flags.gidNumber;
  if (flags.primaryGroup !== undefined) body.primaryGroup = flags.primaryGroup;
  if (flags.homeDirectory !== undefined) body.homeDirectory = flags.homeDirectory;
  if (flags.loginShell !== undefined) body.loginShell = flags.loginShell;
  if (flags.sshPublicKey !== undefined) body.sshPublicKeys = flags.sshPublicKey;
  return Object.keys(body).length > 0 ? body : undefined;
}

export const USER_POSIX_FLAG_NAMES = '--uid-number, --gid-number, --primary-group, --home-directory, --login-shell, --ssh-public-key';
