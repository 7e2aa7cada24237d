// `keyhaven ad user mfa enroll|confirm|show|remove|require` and `keyhaven ad group mfa
// show|require`: a user's second factor (TOTP) and who must use one, over the Graph-shaped
// /users/{id}/authentication and /groups/{id}/authentication API (src/http/graph/
// authentication-routes.ts). Without --id, the user commands act on the signed-in user (/me).
//
// `enroll` prints the new method with its secret and `otpauth://` URI (JSON on stdout, as every
// command), and the URI's QR code on stderr for a phone to scan — or, with --qr-file, writes
// it as SVG (mode 0600: it holds the secret). `confirm` takes the first code from the app.
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { qrCodeSvg, qrCodeTerminal } from '../../directory/totp-qr-code.js';
import type { CliContext } from '../context.js';
import { CREDENTIAL_WARNING, resolveGroup, seg } from '../graph.js';
import { ApiClient } from '../http-client.js';

interface MfaOptions {
  id?: string;
  methodId?: string;
  code?: string;
  qrFile?: string;
  state?: string;
  group?: string;
}

interface OathMethod {
  id: string;
  secretKey?: string | null;
  keyhavenOtpauthUri?: string;
  keyhavenState?: string;
}

const base = (id?: string) => (id === undefined ? '/me/authentication' : `/users/${seg(id)}/authentication`);
const idOption = () => new Option('--id <id>', 'Object id or user principal name of the user (default: the signed-in user).');
const stateOption = () =>
  new Option('--state <state>', 'enforced: a second factor is required; disabled: this requirement is lifted.').choices(['enforced', 'disabled']).makeOptionMandatory();

export function registerUserMfa(user: Command, ctx: CliContext): void {
  const mfa = user.command('mfa').description("Manage a user's second factor (TOTP authenticator app).");

  mfa
    .command('enroll')
    .description('Register an authenticator app: prints its secret and otpauth:// URI and shows the QR code; confirm it with a code.')
    .addOption(idOption())
    .option('--qr-file <file>', 'Write the QR code to this SVG file (mode 0600) instead of showing it in the terminal.')
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      const method = (await client.graph<OathMethod>('POST', `${base(opts.id)}/softwareOathMethods`, {}))!;
      const uri = method.keyhavenOtpauthUri ?? '';
      if (opts.qrFile !== undefined) writeFileSync(opts.qrFile, qrCodeSvg(uri), { mode: 0o600 });
      else ctx.stderr(`${qrCodeTerminal(uri)}\n`);
      ctx.warn(CREDENTIAL_WARNING);
      ctx.print({
        id: method.id,
        secretKey: method.secretKey,
        otpauthUri: uri,
        state: method.keyhavenState,
        expiresDateTime: (method as { keyhavenExpiresDateTime?: string }).keyhavenExpiresDateTime,
      });
    });

  mfa
    .command('confirm')
    .description('Activate a registered authenticator app with the code it shows now.')
    .addOption(idOption())
    .requiredOption('--method-id <id>', 'The id `enroll` printed.')
    .requiredOption('--code <code>', 'The six-digit code from the app.')
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      await client.graph('POST', `${base(opts.id)}/softwareOathMethods/${seg(opts.methodId!)}/activate`, { verificationCode: opts.code });
    });

  mfa
    .command('show')
    .description("Show the user's authenticator apps and whether a second factor is required (and why).")
    .addOption(idOption())
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      const methods = await client.graph<{ value: unknown[] }>('GET', `${base(opts.id)}/softwareOathMethods`);
      const requirement = await client.graph<Record<string, unknown>>('GET', `${base(opts.id)}/requirements`);
      const { '@odata.context': _context, ...rest } = requirement ?? {};
      ctx.print({ ...rest, softwareOathMethods: methods?.value ?? [] });
    });

  mfa
    .command('remove')
    .description("Remove the user's authenticator app (by id, or whichever it has).")
    .addOption(idOption())
    .option('--method-id <id>', 'The method to remove.')
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      let methodId = opts.methodId;
      if (methodId === undefined) {
        const methods = await client.graph<{ value: OathMethod[] }>('GET', `${base(opts.id)}/softwareOathMethods`);
        methodId = methods?.value[0]?.id;
        if (methodId === undefined) throw new Error('The user has no authenticator app registered.');
      }
      await client.graph('DELETE', `${base(opts.id)}/softwareOathMethods/${seg(methodId)}`);
    });

  mfa
    .command('require')
    .description('Require a second factor for this user (enforced), or lift that requirement (disabled). Administrators only.')
    .requiredOption('--id <id>', 'Object id or user principal name of the user.')
    .addOption(stateOption())
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      await client.graph('PATCH', `${base(opts.id)}/requirements`, { perUserMfaState: opts.state });
    });
}

export function registerGroupMfa(group: Command, ctx: CliContext): void {
  const mfa = group.command('mfa').description('Require a second factor of every member of a group, nested groups included.');
  const groupOption = () => new Option('-g, --group <group>', "The group's object id or display name.").makeOptionMandatory();

  mfa
    .command('show')
    .description("Show whether the group's members must use a second factor.")
    .addOption(groupOption())
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      const requirement = await client.graph<Record<string, unknown>>('GET', `/groups/${seg(id)}/authentication/requirements`);
      const { '@odata.context': _context, ...rest } = requirement ?? {};
      ctx.print({ groupId: id, ...rest });
    });

  mfa
    .command('require')
    .description('Require a second factor of every transitive member (enforced), or lift that requirement (disabled).')
    .addOption(groupOption())
    .addOption(stateOption())
    .action(async (opts: MfaOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveGroup(client, opts.group!);
      await client.graph('PATCH', `/groups/${seg(id)}/authentication/requirements`, { perUserMfaState: opts.state });
    });
}
