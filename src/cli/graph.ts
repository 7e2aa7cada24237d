// Helpers for the `keyhaven ad …` commands: OData filters, and resolving the names az accepts
// (a group's display name, an application's appId, a user's UPN) to object ids.
import type { Command } from 'commander';
import { NotFoundError } from '../errors.js';
import type { ApiClient } from './http-client.js';

/** az's CREDENTIAL_WARNING, printed whenever a command outputs a new secret. */
export const CREDENTIAL_WARNING =
  'The output includes credentials that you must protect. Be sure that you do not include these credentials in ' +
  'your code or check the credentials into your source control.';

/** Graph's own code for a missing object, so the error reads as the API's would. */
const NOT_FOUND = 'Request_ResourceNotFound';

export interface DirectoryObject {
  id: string;
  displayName?: string | null;
  [key: string]: unknown;
}

export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/**
 * An OData string literal. az pastes values between quotes as they are; doubling a quote (OData
 * ABNF `SQUOTE-in-string`) keeps a name such as O'Brien from breaking or rewriting the filter.
 */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `?$filter=…` joining `filters` with `and`, as az's list commands do; '' for none. */
export function filterQuery(filters: (string | undefined)[]): string {
  const given = filters.filter((f): f is string => f !== undefined && f !== '');
  return given.length === 0 ? '' : `?$filter=${encodeURIComponent(given.join(' and '))}`;
}

/** A path segment: ids and UPNs are encoded, so none can reach another path. */
export const seg = encodeURIComponent;

/** The `ad` group, created by whichever ad-* module registers first. */
export function adCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'ad') ??
    program.command('ad').description('Manage the directory: users, groups, applications, service principals and directory roles.')
  );
}

/** az's `--group`: an object id, or a display name that must match exactly one group. */
export async function resolveGroup(client: ApiClient, identifier: string): Promise<string> {
  if (isGuid(identifier)) return identifier;
  // az filters with startswith(displayName, …) here, so "team" is ambiguous beside "team-a";
  // an exact match is what a name means.
  const { items } = await client.graphList<DirectoryObject>(`/groups${filterQuery([`displayName eq ${odataString(identifier)}`])}`);
  if (items.length === 0) throw new NotFoundError(NOT_FOUND, `Group '${identifier}' was not found in the directory.`);
  if (items.length > 1) throw new Error(`More than one group has the display name '${identifier}'; use its object id.`);
  return items[0]!.id;
}

/**
 * az's _resolve_application: an appId, else an object id. az takes any other value for an
 * identifier URI and filters with a lambda (identifierUris/any(…)), which Keyhaven's $filter does
 * not have; so `api://{appId}` (the identifier URI Keyhaven gives an application) is read as
 * its appId, and anything else as an exact display name, which `ad sp create-for-rbac --name`
 * made unique.
 */
export async function resolveApplication(client: ApiClient, identifier: string): Promise<string> {
  const appIdUri = /^api:\/\/([0-9a-f-]{36})\/?$/i.exec(identifier)?.[1];
  const appId = isGuid(identifier) ? identifier : appIdUri !== undefined && isGuid(appIdUri) ? appIdUri : undefined;
  const filter = appId !== undefined ? `appId eq ${odataString(appId)}` : `displayName eq ${odataString(identifier)}`;
  const { items } = await client.graphList<DirectoryObject>(`/applications${filterQuery([filter])}`);
  if (items.length === 1 || (items.length > 1 && appId !== undefined)) return items[0]!.id;
  if (items.length > 1) throw new Error(`More than one application has the display name '${identifier}'; use its appId.`);
  if (isGuid(identifier)) return identifier; // not an appId: an object id, as az assumes
  throw new NotFoundError(NOT_FOUND, `Application '${identifier}' doesn't exist.`);
}

/**
 * az's _resolve_object_id for `--assignee`: a UPN is a user; a GUID is a service principal's
 * appId if one has it, else an object id taken as it is.
 */
export async function resolvePrincipal(client: ApiClient, assignee: string): Promise<string> {
  if (assignee.includes('@')) {
    const { items } = await client.graphList<DirectoryObject>(`/users${filterQuery([`userPrincipalName eq ${odataString(assignee)}`])}`);
    if (items.length > 0) return items[0]!.id;
  } else if (isGuid(assignee)) {
    const { items } = await client.graphList<DirectoryObject>(`/servicePrincipals${filterQuery([`appId eq ${odataString(assignee)}`])}`);
    return items.length > 0 ? items[0]!.id : assignee;
  }
  throw new NotFoundError(NOT_FOUND, `Cannot find user or service principal in the directory for '${assignee}'.`);
}

export function notFound(message: string): NotFoundError {
  return new NotFoundError(NOT_FOUND, message);
}

/**
 * `--member-id` of `ad group member add|remove|check`. az takes only an object id there and
 * sends anything else inside the `@odata.id` URL, so a UPN is answered with an error about
 * `@odata.id`. Keyhaven also takes what a person knows a member by: a userPrincipalName, a
 * user's short login name, or the exact display name of a group or service principal. A name
 * that fits several objects is refused rather than guessed.
 */
export async function resolveMember(client: ApiClient, identifier: string): Promise<string> {
  if (isGuid(identifier)) return identifier;
  const user = await client.graph<DirectoryObject>('GET', `/users/${seg(identifier)}?$select=id`).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  if (identifier.includes('@')) {
    if (user) return user.id;
    throw new NotFoundError(NOT_FOUND, `Cannot find a user with the userPrincipalName '${identifier}' in the directory.`);
  }
  const byName = filterQuery([`displayName eq ${odataString(identifier)}`]);
  const found = [
    ...(user ? [{ kind: 'user', id: user.id }] : []),
    ...(await client.graphList<DirectoryObject>(`/groups${byName}`)).items.map((g) => ({ kind: 'group', id: g.id })),
    ...(await client.graphList<DirectoryObject>(`/servicePrincipals${byName}`)).items.map((s) => ({ kind: 'service principal', id: s.id })),
  ];
  if (found.length === 1) return found[0]!.id;
  if (found.length === 0) {
    throw new NotFoundError(NOT_FOUND, `Cannot find a user, group or service principal named '${identifier}' in the directory.`);
  }
  throw new Error(`'${identifier}' names more than one directory object (${found.map((f) => `${f.kind} ${f.id}`).join(', ')}); use its object id.`);
}

/**
 * `ad group member list --output table`. The table rule drops `id` (knack's auto table), but
 * the object id is what `--member-id` and the Graph API take, so this command shows it, as
 * az's table transformers shape single commands' tables.
 */
export function memberTable(result: unknown): unknown {
  if (!Array.isArray(result)) return result;
  return (result as DirectoryObject[]).map((m) => ({
    displayName: m.displayName ?? '',
    objectType: typeof m['@odata.type'] === 'string' ? m['@odata.type'].replace(/^#microsoft\.graph\./, '') : '',
    userPrincipalName: m.userPrincipalName ?? m.appId ?? '',
    objectId: m.id,
  }));
}
