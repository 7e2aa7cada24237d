// `keyhaven ad app create|list|show|delete` and `ad app credential reset`, as az's
// create_application, list_applications and reset_application_credential do them.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parsePositiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { CREDENTIAL_WARNING, adCommand, filterQuery, odataString, resolveApplication, seg, type DirectoryObject } from '../graph.js';
import { ApiClient } from '../http-client.js';

interface AppOptions {
  displayName?: string;
  appId?: string;
  filter?: string;
  all?: boolean;
  id?: string;
  append?: boolean;
  years?: number;
  cert?: string;
}

export interface Application extends DirectoryObject {
  appId: string;
  passwordCredentials?: { keyId: string }[];
  keyCredentials?: { keyId: string }[];
}

/** az lists at most this many applications unless --all or a filter is given. */
const LIST_LIMIT = 100;

/**
 * az's create_application is idempotent by display name: an application with the same name is
 * patched (here, with nothing new to set, returned) rather than duplicated.
 */
export async function createApplication(ctx: CliContext, client: ApiClient, displayName: string): Promise<Application> {
  const { items } = await client.graphList<Application>(`/applications${filterQuery([`displayName eq ${odataString(displayName)}`])}`);
  const same = items.filter((a) => a.displayName === displayName);
  if (same.length > 1) {
    throw new Error(`More than one application have the same display name '${displayName}': (id) ${same.map((a) => a.id).join(', ')}, please remove them first.`);
  }
  if (same.length === 1) {
    ctx.warn(`Found an existing application instance: (id) ${same[0]!.id}. We will patch it.`);
    return (await client.graph<Application>('GET', `/applications/${seg(same[0]!.id)}`))!;
  }
  return (await client.graph<Application>('POST', '/applications', { displayName }))!;
}

/** Graph generates the secret (addPassword); az asks for startDateTime..endDateTime. */
export async function addPassword(client: ApiClient, app: Application, displayName: string | undefined, years: number): Promise<string> {
  const start = new Date();
  const end = new Date(start);
  end.setUTCFullYear(end.getUTCFullYear() + years);
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const result = await client.graph<{ secretText?: string }>('POST', `/applications/${seg(app.id)}/addPassword`, {
    passwordCredential: { displayName: displayName ?? null, startDateTime: iso(start), endDateTime: iso(end) },
  });
  if (typeof result?.secretText !== 'string') throw new Error('addPassword answered without secretText');
  return result.secretText;
}

/** Removes the passwords `app` was read with (az's reset without --append). */
export async function removePasswords(client: ApiClient, app: Application): Promise<void> {
  for (const cred of app.passwordCredentials ?? []) {
    await client.graph('POST', `/applications/${seg(app.id)}/removePassword`, { keyId: cred.keyId });
  }
}

export function register(program: Command, ctx: CliContext): void {
  const app = adCommand(program).command('app').description('Manage applications.');

  app
    .command('create')
    .description('Create an application (or return the one with this display name).')
    .requiredOption('--display-name <name>', 'The display name.')
    .action(async (opts: AppOptions) => {
      const client = await ApiClient.open(ctx);
      ctx.print(await createApplication(ctx, client, opts.displayName!));
    });

  app
    .command('list')
    .description(`List applications (the first ${LIST_LIMIT} unless --all or a filter is given).`)
    .option('--display-name <name>', 'Only applications whose display name starts with this.')
    .option('--app-id <appId>', 'Only the application with this appId.')
    .option('--filter <filter>', 'OData $filter.')
    .option('--all', 'List all applications; may take long.')
    .action(async (opts: AppOptions) => {
      const client = await ApiClient.open(ctx);
      const filters = [
        opts.filter,
        opts.appId === undefined ? undefined : `appId eq ${odataString(opts.appId)}`,
        opts.displayName === undefined ? undefined : `startswith(displayName,${odataString(opts.displayName)})`,
      ];
      const query = filterQuery(filters);
      const limit = query !== '' || opts.all ? Infinity : LIST_LIMIT;
      const { items, more } = await client.graphList(`/applications${query}`, limit);
      if (more) {
        ctx.warn("The result is not complete. You can still use '--all' to get all of them with long latency expected, or provide a filter through command arguments");
      }
      ctx.print(items);
    });

  app
    .command('show')
    .description('Show an application.')
    .requiredOption('--id <id>', 'appId, object id, api://{appId} or display name.')
    .action(async (opts: AppOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveApplication(client, opts.id!);
      ctx.print(await client.graph('GET', `/applications/${seg(id)}`));
    });

  app
    .command('delete')
    .description('Delete an application.')
    .requiredOption('--id <id>', 'appId, object id, api://{appId} or display name.')
    .action(async (opts: AppOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveApplication(client, opts.id!);
      await client.graph('DELETE', `/applications/${seg(id)}`);
    });

  const credential = app.command('credential').description("Manage an application's password and certificate credentials.");
  credential
    .command('reset')
    .description("Replace an application's passwords with a new one (or add one with --append); prints it once. With --cert, its certificates instead.")
    .requiredOption('--id <id>', 'appId, object id, api://{appId} or display name.')
    .option('--append', 'Keep the existing passwords.')
    .option('--display-name <name>', 'A name for the new password.')
    .option('--years <n>', 'Years the password is valid.', parsePositiveInt, 1)
    .option('--cert <cert>', "A public certificate (PEM or base64 DER), or @FILE to read it from a file, as az's --cert: registered as a keyCredential for client assertions.")
    .action(async (opts: AppOptions) => {
      const client = await ApiClient.open(ctx);
      const id = await resolveApplication(client, opts.id!);
      const application = (await client.graph<Application>('GET', `/applications/${seg(id)}`))!;
      if (opts.cert !== undefined) {
        const key = opts.cert.startsWith('@') ? readFileSync(opts.cert.slice(1), 'utf8') : opts.cert;
        // Graph's addKey; as with passwords, the new one is added before the old ones go.
        const added = await client.graph<{ keyId: string }>('POST', `/applications/${seg(application.id)}/addKey`, {
          keyCredential: { type: 'AsymmetricX509Cert', usage: 'Verify', key: key.includes('-----BEGIN') ? key : key.replace(/\s+/g, ''), displayName: opts.displayName ?? null },
          passwordCredential: null,
          proof: '',
        });
        if (!opts.append) {
          for (const cred of application.keyCredentials ?? []) await client.graph('POST', `/applications/${seg(application.id)}/removeKey`, { keyId: cred.keyId, proof: '' });
        }
        ctx.print({ appId: application.appId, keyId: added?.keyId, tenant: client.tenantId });
        return;
      }
      // az removes the old passwords first; adding first leaves no moment without a credential
      // (and a failed add changes nothing). `application` lists only the old ones.
      const password = await addPassword(client, application, opts.displayName, opts.years!);
      if (!opts.append) await removePasswords(client, application);
      ctx.warn(CREDENTIAL_WARNING);
      ctx.print({ appId: application.appId, password, tenant: client.tenantId });
    });
}
