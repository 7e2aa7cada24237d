// `keyhaven machine join|show|rotate-key|get-access-token`: run on the machine itself, with no
// az login — the join token (once), then the machine credential the join wrote, is all it needs.
import { Option, type Command } from 'commander';
import { expandAtFile, parseServerUrl } from '../args.js';
import type { CliContext } from '../context.js';
import { defaultStateDir, joinMachine, machineSummary, machineToken, readMachineState, rotateMachineKey, type KeyType } from '../machine-credential.js';
import { resourceFromScope } from '../login-state.js';
import { UsageError } from '../usage-error.js';

interface MachineOptions {
  server?: string;
  token?: string;
  stateDir?: string;
  caFile?: string;
  keyType?: KeyType;
  resource?: string;
  scope?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const machine = program.command('machine').description('Enroll this machine and use its machine credential (no login needed).');
  const stateDir = () => new Option('--state-dir <dir>', 'Where the machine credential lives (default /var/lib/keyhaven-agent for root, ~/.keyhaven-agent otherwise).');
  const keyType = () => new Option('--key-type <type>', 'Key pair to generate.').choices(['EC', 'RSA']);

  machine
    .command('join')
    .description('Join with a join token: generate a key pair here, send only the public key, keep the private key in a 0600 file.')
    .requiredOption('--server <url>', 'The Keyhaven server, https://host:port.', parseServerUrl)
    .requiredOption('--token <token>', 'The join token (`keyhaven vm join-token create`); @file reads it from a file.')
    .option('--ca-file <pem>', "The server's CA certificate; pinned for every later request.")
    .addOption(stateDir())
    .addOption(keyType().default('EC'))
    .action(async (opts: MachineOptions) => {
      const token = expandAtFile(opts.token!);
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      const state = await joinMachine({ server: opts.server!, token: token.trim(), stateDir: dir, keyType: opts.keyType, ...(opts.caFile ? { caFile: opts.caFile } : {}) });
      ctx.print(machineSummary(state, dir));
    });

  machine
    .command('show')
    .description("This machine's credential (never its private key).")
    .addOption(stateDir())
    .action(async (opts: MachineOptions) => {
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      ctx.print(machineSummary(readMachineState(dir), dir));
    });

  machine
    .command('rotate-key')
    .description('Replace the key pair: the new public key is sent signed with the current key.')
    .addOption(stateDir())
    .addOption(keyType())
    .action(async (opts: MachineOptions) => {
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      ctx.print(machineSummary(await rotateMachineKey(dir, opts.keyType), dir));
    });

  machine
    .command('get-access-token')
    .description('An access token for this machine (client credentials with its signed assertion).')
    .option('--resource <uri>', 'The audience, e.g. https://vault.azure.net.')
    .option('--scope <scope>', 'A scope such as https://vault.azure.net/.default.')
    .addOption(stateDir())
    .action(async (opts: MachineOptions) => {
      if (opts.resource === undefined && opts.scope === undefined) throw new UsageError('one of --resource or --scope is required');
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      const state = readMachineState(dir);
      // As Entra takes it: a resource ending in '/' gives 'https://host//.default'.
      const scope = opts.scope ?? `${opts.resource!}/.default`;
      const answer = await machineToken(dir, scope);
      const expiresIn = Number(answer['expires_in']);
      ctx.print({
        accessToken: answer['access_token'],
        expiresOn: new Date(Date.now() + expiresIn * 1000).toISOString(),
        expires_on: Math.floor(Date.now() / 1000) + expiresIn,
        tenant: state.tenantId,
        tokenType: answer['token_type'],
        resource: opts.resource ?? resourceFromScope(scope),
      });
    });
}
