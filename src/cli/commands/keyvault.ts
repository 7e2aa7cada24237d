// `keyhaven keyvault create|show|list|delete|set-policy` (the vault resource, through the
// management API, as az keyvault's commands send them) and `keyhaven keyvault secret
// set|show|list` (the data plane, on the path form {server}/vaults/{name}, which needs no DNS
// name for the vault; tokens for the vault audience's Azure alias https://vault.azure.net).
import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { expandAtFile, parseBool, parsePositiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { ApiClient } from '../http-client.js';
import { VAULT_RESOURCE } from '../login-state.js';
import { NotFoundError } from '../../errors.js';

const ARM_API = '2023-07-01';
const DATA_API = '7.5';
const SECRET_PERMISSIONS = ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'];

interface Vault {
  id: string;
  name: string;
  location: string;
  properties: { vaultUri: string; accessPolicies?: { tenantId: string; objectId: string; permissions: Record<string, string[]> }[]; [k: string]: unknown };
  [k: string]: unknown;
}

interface VaultOptions {
  name?: string;
  resourceGroup?: string;
  subscription?: string;
  location?: string;
  retentionDays?: number;
  enablePurgeProtection?: boolean;
  enableRbacAuthorization?: boolean;
  objectId?: string;
  secretPermissions?: string[];
  vaultName?: string;
  value?: string;
  file?: string;
  secretVersion?: string;
  contentType?: string;
  maxresults?: number;
}

function subscriptionOf(client: ApiClient, opts: VaultOptions): string {
  if (opts.subscription !== undefined) return opts.subscription;
  const account = client.profile.accounts.find((a) => a.isDefault) ?? client.profile.accounts[0];
  if (!account || account.id === client.tenantId) throw new InvalidArgumentError('no subscription: pass --subscription or sign in to an account with one');
  return account.id;
}

/** The caller's object id, from its management token (what az keyvault create grants itself). */
async function callerObjectId(client: ApiClient): Promise<string> {
  const token = await client.accessToken(client.managementResource);
  const payload = JSON.parse(Buffer.from(token.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid?: string };
  if (typeof payload.oid !== 'string') throw new Error('the management token names no object id');
  return payload.oid;
}

async function listVaults(client: ApiClient, opts: VaultOptions): Promise<Vault[]> {
  const sub = subscriptionOf(client, opts);
  const base = opts.resourceGroup === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${encodeURIComponent(opts.resourceGroup)}`;
  const out: Vault[] = [];
  let path: string | undefined = `${base}/providers/Microsoft.KeyVault/vaults?api-version=${ARM_API}`;
  while (path !== undefined) {
    const page: { value: Vault[]; nextLink?: string } | undefined = await client.request('GET', path, { resource: client.managementResource });
    out.push(...(page?.value ?? []));
    path = page?.nextLink === undefined ? undefined : new URL(page.nextLink).pathname + new URL(page.nextLink).search;
  }
  return out;
}

async function findVault(client: ApiClient, opts: VaultOptions): Promise<Vault> {
  const name = opts.name!;
  if (opts.resourceGroup !== undefined) {
    return (await client.request<Vault>('GET', `${vaultPath(client, opts)}?api-version=${ARM_API}`, { resource: client.managementResource }))!;
  }
  const found = (await listVaults(client, opts)).find((v) => v.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new NotFoundError('ResourceNotFound', `The Vault '${name}' not found within subscription.`);
  return found;
}

function vaultPath(client: ApiClient, opts: VaultOptions): string {
  return `/subscriptions/${subscriptionOf(client, opts)}/resourceGroups/${encodeURIComponent(opts.resourceGroup!)}/providers/Microsoft.KeyVault/vaults/${encodeURIComponent(opts.name!)}`;
}

function resourceGroupOf(vault: Vault): string {
  return vault.id.split('/')[4]!;
}

async function putVault(client: ApiClient, vault: Vault): Promise<Vault> {
  const { id, name: _n, type: _t, etag: _e, systemData: _s, ...body } = vault;
  const props = { ...vault.properties };
  delete props['provisioningState'];
  return (await client.request<Vault>('PUT', `${id}?api-version=${ARM_API}`, { resource: client.managementResource, body: { ...body, properties: props } }))!;
}

/** Says how to make the vault's host name resolve when it does not (Node and Python need it; curl does not). */
async function checkResolves(ctx: CliContext, vaultUri: string): Promise<void> {
  const host = new URL(vaultUri).hostname;
  try {
    await lookup(host);
  } catch {
    ctx.warn(
      `The vault's host name ${host} does not resolve on this machine. Azure SDK clients need it (the path form ` +
        `{server}/vaults/{name} works without). On Debian and Ubuntu install libnss-myhostname, which resolves every ` +
        `*.localhost name to loopback; otherwise add a line such as "127.0.0.1 ${host}" to /etc/hosts or a DNS record.`,
    );
  }
}

function vaultApi(client: ApiClient, vaultName: string): string {
  return `/vaults/${encodeURIComponent(vaultName.toLowerCase())}`;
}

function secretOut(bundle: Record<string, unknown>): Record<string, unknown> {
  const id = String(bundle['id'] ?? '');
  const parts = new URL(id).pathname.split('/');
  return { ...bundle, name: parts[2], ...(parts[3] ? { version: parts[3] } : {}) };
}

interface DeletedVaultJson {
  id: string;
  name: string;
  properties: Record<string, unknown>;
}

async function deletedVault(client: ApiClient, opts: VaultOptions): Promise<DeletedVaultJson> {
  const page = await client.request<{ value: DeletedVaultJson[] }>('GET', `/subscriptions/${subscriptionOf(client, opts)}/providers/Microsoft.KeyVault/deletedVaults?api-version=${ARM_API}`, { resource: client.managementResource });
  const found = (page?.value ?? []).find((v) => v.name.toLowerCase() === opts.name!.toLowerCase());
  if (!found) throw new NotFoundError('ResourceNotFound', `No deleted vault '${opts.name}' in the subscription.`);
  return found;
}

/** The data-plane path of a secret's latest version, with the API version (keyhaven run reads it too). */
export function secretPath(vaultName: string, secretName: string): string {
  return `/vaults/${encodeURIComponent(vaultName.toLowerCase())}/secrets/${encodeURIComponent(secretName)}/?api-version=${DATA_API}`;
}

/** A secret's current value, read with the CLI login's Key Vault token (the read is audited). */
export async function readSecretValue(client: ApiClient, vaultName: string, secretName: string): Promise<string> {
  const out = await client.request<{ value?: unknown }>('GET', secretPath(vaultName, secretName), { resource: VAULT_RESOURCE });
  if (typeof out?.value !== 'string') throw new Error(`the secret ${vaultName}/${secretName} has no value`);
  return out.value;
}

/** One data-plane request on the path form with a vault token. */
async function data<T>(client: ApiClient, method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE', vaultName: string, path: string, body?: unknown): Promise<T | undefined> {
  const sep = path.includes('?') ? '&' : '?';
  return client.request<T>(method, `${vaultApi(client, vaultName)}${path}${sep}api-version=${DATA_API}`, { resource: VAULT_RESOURCE, ...(body !== undefined ? { body } : {}) });
}

/** Every page of a data-plane listing, next links followed on this server only. */
async function dataList(client: ApiClient, vaultName: string, path: string, limit = Infinity): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined = `${vaultApi(client, vaultName)}${path}?api-version=${DATA_API}`;
  while (next !== undefined && items.length < limit) {
    const page: { value: Record<string, unknown>[]; nextLink?: string | null } | undefined = await client.request('GET', next, { resource: VAULT_RESOURCE });
    items.push(...(page?.value ?? []).map(secretOut));
    const link: URL | undefined = page?.nextLink ? new URL(page.nextLink) : undefined;
    next = link === undefined ? undefined : `${link.pathname}${link.search}`;
  }
  return limit === Infinity ? items : items.slice(0, limit);
}

export function register(program: Command, ctx: CliContext): void {
  const kv = program.command('keyvault').description('Manage key vaults and their secrets.');

  kv.command('create')
    .description('Create a key vault (the caller gets an access policy with every secret permission, unless --enable-rbac-authorization).')
    .requiredOption('-n, --name <name>', 'Vault name: 3–24 letters, digits and hyphens, unique in the deployment.')
    .requiredOption('-g, --resource-group <group>', 'Resource group.')
    .option('-l, --location <location>', 'Location.', 'westeurope')
    .option('--subscription <id>', 'Subscription (default: the default account).')
    .option('--retention-days <days>', 'Soft-delete retention, 7–90.', parsePositiveInt, 90)
    .option('--enable-purge-protection <bool>', 'Refuse purges until the retention ends.', parseBool)
    .option('--enable-rbac-authorization <bool>', 'Authorize the data plane with role assignments instead of access policies.', parseBool)
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const rbac = opts.enableRbacAuthorization === true;
      const properties: Record<string, unknown> = {
        tenantId: client.tenantId,
        sku: { family: 'A', name: 'standard' },
        softDeleteRetentionInDays: opts.retentionDays,
        enableRbacAuthorization: rbac,
        accessPolicies: rbac ? [] : [{ tenantId: client.tenantId, objectId: await callerObjectId(client), permissions: { secrets: ['all'] } }],
      };
      if (opts.enablePurgeProtection) properties['enablePurgeProtection'] = true;
      const vault = (await client.request<Vault>('PUT', `${vaultPath(client, opts)}?api-version=${ARM_API}`, { resource: client.managementResource, body: { location: opts.location, properties } }))!;
      await checkResolves(ctx, vault.properties.vaultUri);
      ctx.print(vault);
    });

  kv.command('show')
    .description('Show a key vault.')
    .requiredOption('-n, --name <name>', 'Vault name.')
    .option('-g, --resource-group <group>', 'Resource group (default: found by name).')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => ctx.print(await findVault(await ApiClient.open(ctx), opts)));

  kv.command('list')
    .description('List key vaults of the subscription or a resource group.')
    .option('-g, --resource-group <group>', 'Resource group.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const vaults = await listVaults(await ApiClient.open(ctx), opts);
      ctx.print(vaults, { table: (r) => (r as Vault[]).map((v) => ({ Location: v.location, Name: v.name, ResourceGroup: resourceGroupOf(v) })) });
    });

  kv.command('delete')
    .description('Delete a key vault (soft delete: recoverable until its retention ends).')
    .requiredOption('-n, --name <name>', 'Vault name.')
    .option('-g, --resource-group <group>', 'Resource group.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const vault = await findVault(client, opts);
      await client.request('DELETE', `${vault.id}?api-version=${ARM_API}`, { resource: client.managementResource });
    });

  kv.command('set-policy')
    .description("Grant secret permissions to an object id (user, group or service principal) in the vault's access policies.")
    .requiredOption('-n, --name <name>', 'Vault name.')
    .requiredOption('--object-id <id>', 'Object id of the user, group or service principal.')
    .requiredOption('--secret-permissions <permissions...>', `Secret permissions: ${SECRET_PERMISSIONS.join(' ')}.`)
    .option('-g, --resource-group <group>', 'Resource group.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      for (const p of opts.secretPermissions!) {
        if (!SECRET_PERMISSIONS.includes(p.toLowerCase())) throw new InvalidArgumentError(`'${p}' is not a secret permission (${SECRET_PERMISSIONS.join(', ')})`);
      }
      const client = await ApiClient.open(ctx);
      const vault = await findVault(client, opts);
      const objectId = opts.objectId!.toLowerCase();
      const policies = (vault.properties.accessPolicies ?? []).filter((p) => p.objectId.toLowerCase() !== objectId);
      const existing = (vault.properties.accessPolicies ?? []).find((p) => p.objectId.toLowerCase() === objectId);
      // As az: the given secret permissions replace the entry's, its other permissions are kept.
      policies.push({ tenantId: client.tenantId, objectId, permissions: { ...(existing?.permissions ?? {}), secrets: opts.secretPermissions!.map((p) => p.toLowerCase()) } });
      ctx.print(await putVault(client, { ...vault, properties: { ...vault.properties, accessPolicies: policies } }));
    });

  kv.command('delete-policy')
    .description("Remove an object id's access policy from a vault.")
    .requiredOption('-n, --name <name>', 'Vault name.')
    .requiredOption('--object-id <id>', 'Object id of the user, group or service principal.')
    .option('-g, --resource-group <group>', 'Resource group.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const vault = await findVault(client, opts);
      const objectId = opts.objectId!.toLowerCase();
      const policies = (vault.properties.accessPolicies ?? []).filter((p) => p.objectId.toLowerCase() !== objectId);
      ctx.print(await putVault(client, { ...vault, properties: { ...vault.properties, accessPolicies: policies } }));
    });

  kv.command('list-deleted')
    .description('List the soft-deleted vaults of the subscription.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const page = await client.request<{ value: unknown[] }>('GET', `/subscriptions/${subscriptionOf(client, opts)}/providers/Microsoft.KeyVault/deletedVaults?api-version=${ARM_API}`, { resource: client.managementResource });
      ctx.print(page?.value ?? []);
    });

  kv.command('recover')
    .description('Recover a soft-deleted vault, with its secrets and access policies.')
    .requiredOption('-n, --name <name>', 'Vault name.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const deleted = await deletedVault(client, opts);
      const vaultId = String(deleted.properties['vaultId']);
      // createMode recover (as az keyvault recover sends it): the server restores the vault as it was deleted.
      const body = { location: deleted.properties['location'], tags: deleted.properties['tags'], properties: { tenantId: client.tenantId, sku: { family: 'A', name: 'standard' }, createMode: 'recover' } };
      ctx.print(await client.request('PUT', `${vaultId}?api-version=${ARM_API}`, { resource: client.managementResource, body }));
    });

  kv.command('purge')
    .description('Purge a soft-deleted vault and its secrets for good.')
    .requiredOption('-n, --name <name>', 'Vault name.')
    .option('--subscription <id>', 'Subscription.')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const deleted = await deletedVault(client, opts);
      await client.request('POST', `${deleted.id}/purge?api-version=${ARM_API}`, { resource: client.managementResource });
    });

  const secret = kv.command('secret').description('Manage the secrets of a key vault.');

  secret.command('set')
    .description('Set a secret (a new version).')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .option('--value <value>', 'The value (@file reads it from a file, keeping it out of the process list).', expandAtFile)
    .option('-f, --file <path>', 'Read the value from this file.')
    .option('--content-type <type>', 'Content type.')
    .action(async (opts: VaultOptions) => {
      if ((opts.value === undefined) === (opts.file === undefined)) throw new InvalidArgumentError('give one of --value or --file');
      const value = opts.value ?? expandAtFile(`@${opts.file}`);
      const client = await ApiClient.open(ctx);
      const body = { value, ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}) };
      const out = (await client.request<Record<string, unknown>>('PUT', `${vaultApi(client, opts.vaultName!)}/secrets/${encodeURIComponent(opts.name!)}?api-version=${DATA_API}`, { resource: VAULT_RESOURCE, body }))!;
      ctx.print(secretOut(out));
    });

  secret.command('show')
    .description('Show a secret, its value included (the read is audited).')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    // Not --version as az: that is the root command's flag here.
    .option('--secret-version <version>', 'A version (default: the latest).')
    .action(async (opts: VaultOptions) => {
      const client = await ApiClient.open(ctx);
      const out = (await client.request<Record<string, unknown>>('GET', `${vaultApi(client, opts.vaultName!)}/secrets/${encodeURIComponent(opts.name!)}/${encodeURIComponent(opts.secretVersion ?? '')}?api-version=${DATA_API}`, { resource: VAULT_RESOURCE }))!;
      ctx.print(secretOut(out));
    });

  secret.command('list')
    .description('List the secrets of a vault (names and attributes, no values).')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .option('--maxresults <n>', 'At most this many.', parsePositiveInt)
    .action(async (opts: VaultOptions) => ctx.print(await dataList(await ApiClient.open(ctx), opts.vaultName!, '/secrets', opts.maxresults)));

  secret.command('list-versions')
    .description('List the versions of a secret (no values).')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .action(async (opts: VaultOptions) => ctx.print(await dataList(await ApiClient.open(ctx), opts.vaultName!, `/secrets/${encodeURIComponent(opts.name!)}/versions`)));

  secret.command('list-deleted')
    .description('List the soft-deleted secrets of a vault.')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .action(async (opts: VaultOptions) => ctx.print(await dataList(await ApiClient.open(ctx), opts.vaultName!, '/deletedsecrets')));

  secret.command('set-attributes')
    .description("Update a version's attributes, content type or tags (default: the latest version).")
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .option('--secret-version <version>', 'A version.')
    .option('--enabled <bool>', 'Enable or disable the version.', parseBool)
    .option('--content-type <type>', 'Content type.')
    .option('--expires <time>', 'Expiry (ISO 8601).')
    .option('--not-before <time>', 'Not valid before (ISO 8601).')
    .action(async (opts: VaultOptions & { enabled?: boolean; expires?: string; notBefore?: string }) => {
      const seconds = (t: string) => {
        const ms = Date.parse(t);
        if (Number.isNaN(ms)) throw new InvalidArgumentError(`'${t}' is not an ISO 8601 time`);
        return Math.floor(ms / 1000);
      };
      const attributes: Record<string, unknown> = {};
      if (opts.enabled !== undefined) attributes['enabled'] = opts.enabled;
      if (opts.expires !== undefined) attributes['exp'] = seconds(opts.expires);
      if (opts.notBefore !== undefined) attributes['nbf'] = seconds(opts.notBefore);
      const body = { attributes, ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}) };
      const client = await ApiClient.open(ctx);
      ctx.print(secretOut((await data<Record<string, unknown>>(client, 'PATCH', opts.vaultName!, `/secrets/${encodeURIComponent(opts.name!)}/${encodeURIComponent(opts.secretVersion ?? '')}`, body))!));
    });

  secret.command('delete')
    .description('Delete a secret (soft delete: recoverable until its scheduled purge date).')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .action(async (opts: VaultOptions) => ctx.print(secretOut((await data<Record<string, unknown>>(await ApiClient.open(ctx), 'DELETE', opts.vaultName!, `/secrets/${encodeURIComponent(opts.name!)}`))!)));

  secret.command('recover')
    .description('Recover a soft-deleted secret.')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .action(async (opts: VaultOptions) => ctx.print(secretOut((await data<Record<string, unknown>>(await ApiClient.open(ctx), 'POST', opts.vaultName!, `/deletedsecrets/${encodeURIComponent(opts.name!)}/recover`))!)));

  secret.command('purge')
    .description('Purge a soft-deleted secret for good.')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .action(async (opts: VaultOptions) => {
      await data(await ApiClient.open(ctx), 'DELETE', opts.vaultName!, `/deletedsecrets/${encodeURIComponent(opts.name!)}`);
    });

  secret.command('backup')
    .description('Write a backup of a secret (every version, sealed: only this deployment restores it) to a file.')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-n, --name <name>', 'Secret name.')
    .requiredOption('-f, --file <path>', 'The backup file (created, mode 0600).')
    .action(async (opts: VaultOptions) => {
      const out = await data<{ value: string }>(await ApiClient.open(ctx), 'POST', opts.vaultName!, `/secrets/${encodeURIComponent(opts.name!)}/backup`);
      writeFileSync(opts.file!, Buffer.from(out!.value, 'base64url'), { mode: 0o600, flag: 'wx' });
    });

  secret.command('restore')
    .description('Restore a secret from a backup file.')
    .requiredOption('--vault-name <name>', 'Vault name.')
    .requiredOption('-f, --file <path>', 'The backup file.')
    .action(async (opts: VaultOptions) => {
      const blob = readFileSync(opts.file!).toString('base64url');
      ctx.print(secretOut((await data<Record<string, unknown>>(await ApiClient.open(ctx), 'POST', opts.vaultName!, '/secrets/restore', { value: blob }))!));
    });
}
