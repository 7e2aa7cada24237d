// Application registrations, Graph's /applications: an object id, a client id (appId), a
// display name, and credentials (app-credentials.ts). `az ad sp create-for-rbac` makes an
// application and its service principal together; `withServicePrincipal` does both in one
// transaction. Deleting an application deletes its service principal too, as Entra does in
// the home tenant.
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { ApplicationRow } from '../storage/repos/application-repo.js';
import type { Repos } from '../storage/storage.js';
import { auditEvent, notFound, nowIso, retryUniqueRace, type Actor, type DirectoryDeps } from './directory-context.js';
import { toGraphApplication, toGraphServicePrincipal, type GraphApplication, type GraphServicePrincipal } from './graph-objects.js';
import { parseFilter, type FilterFields } from './odata-filter.js';
import { decodeCreationToken, encodeCreationToken, isObjectId, parseSelect, parseTop, project, type ListOptions, type ListResult } from './odata-query.js';
import { checkDisplayName } from './principal-names.js';
import { removeServicePrincipal, type ServicePrincipals } from './service-principals.js';

/** Graph's sign-in settings of an application: its redirect URIs and public-client flag. */
export interface ApplicationSignInInput {
  web?: { redirectUris?: string[] };
  publicClient?: { redirectUris?: string[] };
  spa?: { redirectUris?: string[] };
  isFallbackPublicClient?: boolean | null;
}

export interface CreateApplicationInput extends ApplicationSignInInput {
  displayName: string;
  /** Also create the application's service principal (enabled), as create-for-rbac does. */
  withServicePrincipal?: boolean;
}

export interface CreatedApplication {
  application: GraphApplication;
  servicePrincipal?: GraphServicePrincipal;
}

export const APPLICATION_FILTER_FIELDS: FilterFields = {
  id: { column: 'id', type: 'id' },
  appId: { column: 'app_id', type: 'id' },
  displayName: { column: 'display_name', type: 'string' },
};

export const APPLICATION_PROPERTIES = [
  'id', 'appId', 'displayName', 'createdDateTime', 'identifierUris', 'signInAudience', 'passwordCredentials', 'keyCredentials',
  'web', 'publicClient', 'spa', 'isFallbackPublicClient',
] as const;

const SIGN_IN_PROPERTIES = ['web', 'publicClient', 'spa', 'isFallbackPublicClient'] as const;
const MAX_REDIRECT_URIS = 256;

/**
 * Entra's rules for a redirect URI: an absolute URI without a fragment, at most 256 characters
 * (Entra's limit); `https`, or `http` only for a loopback host (RFC 8252 §7.3), or (public
 * clients only, RFC 8252 §7.1) a private-use scheme such as `msal{appId}://auth`.
 */
function checkRedirectUris(value: { redirectUris?: string[] } | undefined, kind: 'web' | 'publicClient' | 'spa'): string[] | undefined {
  if (value === undefined || value.redirectUris === undefined) return undefined;
  const uris = value.redirectUris;
  if (!Array.isArray(uris) || uris.length > MAX_REDIRECT_URIS) throw new InvalidInputError('KH_REDIRECT_URI_INVALID', `${kind}.redirectUris must be an array of at most ${MAX_REDIRECT_URIS} URIs.`);
  for (const uri of uris) {
    let url: URL | undefined;
    try {
      url = typeof uri === 'string' && uri.length <= 256 && !/[\s\u0000-\u001f]/.test(uri) ? new URL(uri) : undefined;
    } catch {
      url = undefined;
    }
    const loopback = url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    const scheme = url?.protocol;
    const ok = url !== undefined && url.hash === '' && uri.indexOf('#') < 0 && (
      scheme === 'https:' || (scheme === 'http:' && loopback) ||
      (kind === 'publicClient' && scheme !== 'http:' && scheme !== 'javascript:' && scheme !== 'data:' && scheme !== 'file:' && /^[a-z][a-z0-9+.-]*:$/.test(scheme ?? '')));
    if (!ok) throw new InvalidInputError('KH_REDIRECT_URI_INVALID', `${kind}.redirectUris: '${String(uri).slice(0, 256).replace(/[^\x20-\x7e]/g, '?')}' is not a valid redirect URI (https, http on a loopback address, or a private-use scheme for public clients; no fragment).`);
  }
  return [...new Set(uris)];
}

/** The columns an application's sign-in settings set. */
function signInColumns(input: ApplicationSignInInput) {
  const set: { web_redirect_uris?: string; public_client_redirect_uris?: string; spa_redirect_uris?: string; is_fallback_public_client?: number } = {};
  const web = checkRedirectUris(input.web, 'web');
  const publicClient = checkRedirectUris(input.publicClient, 'publicClient');
  const spa = checkRedirectUris(input.spa, 'spa');
  if (web) set.web_redirect_uris = JSON.stringify(web);
  if (publicClient) set.public_client_redirect_uris = JSON.stringify(publicClient);
  if (spa) set.spa_redirect_uris = JSON.stringify(spa);
  if (input.isFallbackPublicClient !== undefined) set.is_fallback_public_client = input.isFallbackPublicClient === true ? 1 : 0;
  return set;
}

export class Applications {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly servicePrincipals: ServicePrincipals,
  ) {}

  /** By object id, or by appId (Graph: /applications(appId='…')). */
  async find(key: string, repos: Repos = this.deps.storage.read): Promise<ApplicationRow | undefined> {
    const id = typeof key === 'string' ? key.toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    return (await repos.applications.byId(id)) ?? (await repos.applications.byAppId(id));
  }

  /** `withCredentials`: include credential metadata (callers allowed credentials.read only). */
  async get(key: string, withCredentials: boolean): Promise<GraphApplication> {
    const row = await this.find(key);
    if (!row) throw notFound('KH_APPLICATION_NOT_FOUND', key);
    return toGraphApplication(row, withCredentials ? await this.deps.storage.read.applications.credentials(row.id) : []);
  }

  async list(options: ListOptions, withCredentials: boolean): Promise<ListResult<Partial<GraphApplication>>> {
    const select = parseSelect(options.select, APPLICATION_PROPERTIES, 'microsoft.graph.application');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, APPLICATION_FILTER_FIELDS);
    const repo = this.deps.storage.read.applications;
    const page = await repo.list(filter, { limit: parseTop(options.top), after: decodeCreationToken(options.skipToken) });
    const value: Partial<GraphApplication>[] = [];
    for (const row of page.rows) {
      value.push(project(toGraphApplication(row, withCredentials ? await repo.credentials(row.id) : []), select));
    }
    const result: ListResult<Partial<GraphApplication>> = { value };
    if (page.next) result.nextSkipToken = encodeCreationToken(page.next);
    return result;
  }

  async create(actor: Actor, input: CreateApplicationInput): Promise<CreatedApplication> {
    if (input === null || typeof input !== 'object') throw new InvalidInputError('KH_DISPLAY_NAME_INVALID', 'An application needs a displayName.');
    const displayName = checkDisplayName(input.displayName);
    const signIn = signInColumns(input);
    const id = randomUUID();
    const appId = randomUUID();
    const spId = randomUUID();
    const created = await retryUniqueRace(() =>
      this.deps.audit.write(
        auditEvent(actor, 'application.create', id, { appId, servicePrincipal: input.withServicePrincipal === true }),
        async (tx) => {
          const now = nowIso();
          await tx.applications.insert({ id, app_id: appId, display_name: displayName, created_at: now, updated_at: now, ...signIn });
          const sp = input.withServicePrincipal === true
            ? await this.servicePrincipals.insert(tx, { id: spId, appId, displayName, enabled: true, type: 'Application' })
            : undefined;
          return { app: (await tx.applications.byId(id))!, sp };
        },
      ),
    );
    const result: CreatedApplication = { application: toGraphApplication(created.app) };
    if (created.sp) result.servicePrincipal = toGraphServicePrincipal(created.sp, this.deps.tenantId);
    return result;
  }

  async update(actor: Actor, key: string, patch: { displayName?: string } & ApplicationSignInInput, expectedVersion?: number): Promise<GraphApplication> {
    for (const name of Object.keys(patch ?? {})) {
      if (name !== 'displayName' && !(SIGN_IN_PROPERTIES as readonly string[]).includes(name)) throw new InvalidInputError('KH_ATTRIBUTE_INVALID', `Property '${name.slice(0, 64)}' cannot be updated on an application.`);
    }
    const current = await this.find(key);
    if (!current) throw notFound('KH_APPLICATION_NOT_FOUND', key);
    const set = { ...(patch.displayName === undefined ? {} : { display_name: checkDisplayName(patch.displayName) }), ...signInColumns(patch) };
    const row = await this.deps.audit.write(auditEvent(actor, 'application.update', current.id, { properties: Object.keys(patch).join(',') }), async (tx) => {
      const fresh = await tx.applications.byId(current.id);
      if (!fresh) throw notFound('KH_APPLICATION_NOT_FOUND', key);
      await tx.applications.updateVersioned(fresh.id, expectedVersion ?? fresh.version, { ...set, updated_at: nowIso() });
      return (await tx.applications.byId(fresh.id))!;
    });
    return toGraphApplication(row);
  }

  /** Deletes the application, its credentials, and its service principal (with memberships and role assignments). */
  async delete(actor: Actor, key: string): Promise<void> {
    const current = await this.find(key);
    if (!current) throw notFound('KH_APPLICATION_NOT_FOUND', key);
    await this.deps.audit.write(auditEvent(actor, 'application.delete', current.id, { appId: current.app_id }), async (tx) => {
      const sp = await tx.servicePrincipals.byAppId(current.app_id);
      if (sp) await removeServicePrincipal(tx, sp.id);
      await tx.roleAssignments.deleteFor(current.id);
      if (!(await tx.applications.delete(current.id))) throw notFound('KH_APPLICATION_NOT_FOUND', key);
    });
  }
}
