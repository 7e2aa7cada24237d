// Helpers for the management-plane verbs (`keyhaven group|identity|vm|vmss|resource|role …`):
// ARM requests with the management token, lists followed through nextLink, the subscription a
// command acts in (--subscription, else the login's default account, as az), resource ids
// built from -g/-n, and the JSON az prints (the SDK models' flattened properties plus
// `resourceGroup`, which az adds to every resource it shows).
import { Option, type Command } from 'commander';
import { NotFoundError } from '../errors.js';
import type { ApiClient } from './http-client.js';
import { TENANT_LEVEL_ACCOUNT } from './login-state.js';

/** The api-versions the CLI sends (those az 2.45 sends, or the stable ones after them). */
export const API = {
  resources: '2021-04-01',
  identities: '2023-01-31',
  compute: '2022-11-01',
  authorization: '2022-04-01',
} as const;

export const IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

export type Json = Record<string, unknown>;

/** `--subscription` on every management verb (name or id). */
export function subscriptionOption(cmd: Command): Command {
  return cmd.addOption(new Option('--subscription <subscription>', 'Name or ID of subscription (default: the one `keyhaven account set` chose).'));
}

/** The subscription id a command acts in: --subscription (name or id) or the default account. */
export function subscriptionId(client: ApiClient, given: string | undefined): string {
  const accounts = client.profile.accounts.filter((a) => a.name !== TENANT_LEVEL_ACCOUNT);
  if (given !== undefined) {
    const g = given.toLowerCase();
    const found = accounts.find((a) => a.id.toLowerCase() === g) ?? accounts.find((a) => a.name.toLowerCase() === g);
    if (!found) throw new Error(`Subscription '${given}' not found. Check the spelling and casing and try again.`);
    return found.id;
  }
  const found = accounts.find((a) => a.isDefault) ?? accounts[0];
  if (!found) throw new Error("No subscription found. Run 'keyhaven account set' to select a subscription.");
  return found.id;
}

/** One ARM request (path under the server, api-version appended). */
export async function arm<T = Json>(client: ApiClient, method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', path: string, apiVersion: string, body?: unknown): Promise<T | undefined> {
  const sep = path.includes('?') ? '&' : '?';
  return client.request<T>(method, `${path}${sep}api-version=${apiVersion}`, { resource: client.managementResource, body });
}

/** Every item of an ARM list, following nextLink (only ever to this server). */
export async function armList<T = Json>(client: ApiClient, path: string, apiVersion: string): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  let next: string | undefined = `${path}${sep}api-version=${apiVersion}`;
  for (let pages = 0; next !== undefined; pages++) {
    if (pages > 10_000) throw new Error(`${path.split('?')[0]} did not stop paging`);
    const page: { value?: T[]; nextLink?: string } | undefined = await client.request('GET', next, { resource: client.managementResource });
    if (!page || !Array.isArray(page.value)) throw new Error(`${path.split('?')[0]} did not answer a list`);
    items.push(...page.value);
    next = page.nextLink === undefined || page.nextLink === null ? undefined : serverPath(client, page.nextLink);
  }
  return items;
}

/** A nextLink (written with the server's public URL) as a path under the server the CLI talks to. */
function serverPath(client: ApiClient, link: string): string {
  const { server, publicUrl } = client.profile;
  for (const base of [server, publicUrl]) if (link.startsWith(`${base}/`)) return link.slice(base.length);
  throw new Error(`refusing to follow nextLink outside ${server}: ${new URL(link).origin}`);
}

export function groupPath(subscription: string, group: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${encodeURIComponent(group)}`;
}

export function resourcePath(subscription: string, group: string, type: string, name: string): string {
  return `${groupPath(subscription, group)}/providers/${type}/${encodeURIComponent(name)}`;
}

/** The resource group named in a resource id (as the id spells it). */
export function resourceGroupOf(id: unknown): string | undefined {
  return typeof id === 'string' ? /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] : undefined;
}

/** A resource as az prints it: the SDK model's flattened properties, and resourceGroup. */
export function flattened(resource: Json | undefined, drop: readonly string[] = []): Json | undefined {
  if (!resource) return resource;
  const { properties, ...envelope } = resource;
  const out: Json = { ...envelope, ...(typeof properties === 'object' && properties !== null ? (properties as Json) : {}), resourceGroup: resourceGroupOf(resource['id']) };
  for (const k of drop) delete out[k];
  return out;
}

/** A user-assigned identity as `az identity` prints it (the model has no etag or provisioningState). */
export function identityJson(resource: Json | undefined): Json | undefined {
  return flattened(resource, ['etag', 'provisioningState']);
}

/** A resource group as `az group` prints it. */
export function groupJson(group: Json | undefined): Json | undefined {
  return group ? { managedBy: null, ...group } : group;
}

/**
 * `--identities` / `--assign-identity` values as az reads them (_build_identities_info):
 * `[system]` is the system-assigned identity, a resource id is kept, and a bare name is the
 * user-assigned identity of that name in the resource's own group.
 */
export function identityIds(values: readonly string[], subscription: string, group: string): { system: boolean; ids: string[] } {
  let system = values.length === 0;
  const ids: string[] = [];
  for (const v of values) {
    if (v.toLowerCase() === '[system]') system = true;
    else ids.push(v.startsWith('/') ? v : resourcePath(subscription, group, IDENTITY_TYPE, v));
  }
  return { system, ids };
}

/** The 404 a show of something missing ends with (az exits 3). */
export function notFound(message: string): NotFoundError {
  return new NotFoundError('ResourceNotFound', message);
}
