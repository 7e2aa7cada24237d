// Service principals: the identity an application (or a managed identity) signs in as, Graph's
// /servicePrincipals. Tokens name the service principal's object id as `oid`; the client id
// a caller presents is its appId. Disabling one (accountEnabled false) stops its sign-ins and,
// through the token verifier's lookup, its existing tokens.
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { ServicePrincipalRow } from '../storage/repos/service-principal-repo.js';
import type { Repos, Tx } from '../storage/storage.js';
import { auditEvent, notFound, nowIso, retryUniqueRace, type Actor, type DirectoryDeps } from './directory-context.js';
import { toGraphServicePrincipal, type GraphServicePrincipal } from './graph-objects.js';
import { parseFilter, type FilterFields } from './odata-filter.js';
import { decodeCreationToken, encodeCreationToken, isObjectId, parseSelect, parseTop, project, type ListOptions, type ListResult } from './odata-query.js';
import { checkBoolean, checkDisplayName } from './principal-names.js';
import { ConflictError } from '../errors.js';

export interface CreateServicePrincipalInput {
  /** The application's appId; for a managed identity, omit it and a fresh one is made. */
  appId?: string;
  displayName?: string;
  accountEnabled?: boolean;
  servicePrincipalType?: 'Application' | 'ManagedIdentity';
}

export interface UpdateServicePrincipalInput {
  accountEnabled?: boolean;
  displayName?: string;
}

export const SERVICE_PRINCIPAL_FILTER_FIELDS: FilterFields = {
  id: { column: 'id', type: 'id' },
  appId: { column: 'app_id', type: 'id' },
  displayName: { column: 'display_name', type: 'string' },
  accountEnabled: { column: 'account_enabled', type: 'boolean' },
  servicePrincipalType: { column: 'service_principal_type', type: 'string' },
};

export const SERVICE_PRINCIPAL_PROPERTIES = [
  'id', 'appId', 'displayName', 'accountEnabled', 'servicePrincipalType', 'servicePrincipalNames', 'appOwnerOrganizationId', 'createdDateTime',
] as const;

export class ServicePrincipals {
  constructor(private readonly deps: DirectoryDeps) {}

  /** By object id, or by appId (Graph: /servicePrincipals(appId='…')). */
  async find(key: string, repos: Repos = this.deps.storage.read): Promise<ServicePrincipalRow | undefined> {
    const id = typeof key === 'string' ? key.toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    return (await repos.servicePrincipals.byId(id)) ?? (await repos.servicePrincipals.byAppId(id));
  }

  async get(key: string): Promise<GraphServicePrincipal> {
    const row = await this.find(key);
    if (!row) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
    return toGraphServicePrincipal(row, this.deps.tenantId);
  }

  async list(options: ListOptions = {}): Promise<ListResult<Partial<GraphServicePrincipal>>> {
    const select = parseSelect(options.select, SERVICE_PRINCIPAL_PROPERTIES, 'microsoft.graph.servicePrincipal');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, SERVICE_PRINCIPAL_FILTER_FIELDS);
    const page = await this.deps.storage.read.servicePrincipals.list(filter, { limit: parseTop(options.top), after: decodeCreationToken(options.skipToken) });
    const result: ListResult<Partial<GraphServicePrincipal>> = {
      value: page.rows.map((r) => project(toGraphServicePrincipal(r, this.deps.tenantId), select)),
    };
    if (page.next) result.nextSkipToken = encodeCreationToken(page.next);
    return result;
  }

  /**
   * POST /servicePrincipals {appId}: for an existing application, at most one (Graph answers
   * "A conflicting object with one or more of the specified property values is present").
   * A managed identity has no application here: its appId is made now.
   */
  async create(actor: Actor, input: CreateServicePrincipalInput): Promise<GraphServicePrincipal> {
    const type = input.servicePrincipalType ?? 'Application';
    if (type !== 'Application' && type !== 'ManagedIdentity') {
      throw new InvalidInputError('KH_ATTRIBUTE_INVALID', "servicePrincipalType must be 'Application' or 'ManagedIdentity'.");
    }
    const enabled = input.accountEnabled === undefined ? true : checkBoolean(input.accountEnabled, 'accountEnabled');
    let displayName = input.displayName === undefined ? undefined : checkDisplayName(input.displayName);
    let appId: string;
    if (type === 'Application') {
      const app = input.appId === undefined ? undefined : await this.deps.storage.read.applications.byAppId(String(input.appId).toLowerCase());
      if (!app) throw notFound('KH_APPLICATION_NOT_FOUND', String(input.appId ?? ''));
      appId = app.app_id;
      displayName ??= app.display_name;
    } else {
      if (input.appId !== undefined) throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'A managed identity gets its appId from Keyhaven.');
      if (displayName === undefined) throw new InvalidInputError('KH_DISPLAY_NAME_INVALID', 'A managed identity needs a displayName.');
      appId = randomUUID();
    }
    const id = randomUUID();
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'serviceprincipal.create', id, { appId, type }), (tx) =>
        this.insert(tx, { id, appId, displayName: displayName!, enabled, type }),
      ),
    );
    return toGraphServicePrincipal(row, this.deps.tenantId);
  }

  /** Inside a write: one service principal per appId. Shared with application creation. */
  async insert(tx: Tx, sp: { id: string; appId: string; displayName: string; enabled: boolean; type: 'Application' | 'ManagedIdentity' }): Promise<ServicePrincipalRow> {
    if (await tx.servicePrincipals.byAppId(sp.appId)) {
      throw new ConflictError('KH_SERVICE_PRINCIPAL_EXISTS', 'A conflicting object with one or more of the specified property values is present in the directory: the application already has a service principal.');
    }
    const now = nowIso();
    await tx.servicePrincipals.insert({
      id: sp.id, app_id: sp.appId, display_name: sp.displayName, account_enabled: sp.enabled ? 1 : 0,
      service_principal_type: sp.type, created_at: now, updated_at: now,
    });
    return (await tx.servicePrincipals.byId(sp.id))!;
  }

  async update(actor: Actor, key: string, patch: UpdateServicePrincipalInput, expectedVersion?: number): Promise<GraphServicePrincipal> {
    for (const name of Object.keys(patch ?? {})) {
      if (name !== 'accountEnabled' && name !== 'displayName') {
        throw new InvalidInputError('KH_ATTRIBUTE_INVALID', `Property '${name.slice(0, 64)}' cannot be updated on a service principal.`);
      }
    }
    const current = await this.find(key);
    if (!current) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
    const set: Partial<Pick<ServicePrincipalRow, 'account_enabled' | 'display_name'>> = {};
    if (patch.accountEnabled !== undefined) set.account_enabled = checkBoolean(patch.accountEnabled, 'accountEnabled') ? 1 : 0;
    if (patch.displayName !== undefined) set.display_name = checkDisplayName(patch.displayName);
    const row = await this.deps.audit.write(auditEvent(actor, 'serviceprincipal.update', current.id, { properties: Object.keys(patch).join(',') }), async (tx) => {
      const fresh = await tx.servicePrincipals.byId(current.id);
      if (!fresh) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
      await tx.servicePrincipals.updateVersioned(fresh.id, expectedVersion ?? fresh.version, { ...set, updated_at: nowIso() });
      return (await tx.servicePrincipals.byId(fresh.id))!;
    });
    return toGraphServicePrincipal(row, this.deps.tenantId);
  }

  async delete(actor: Actor, key: string): Promise<void> {
    const current = await this.find(key);
    if (!current) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
    // A managed identity's principal belongs to its resource (a user-assigned identity, or a
    // machine's system-assigned identity): it goes only with it, so the two never disagree.
    if (current.service_principal_type === 'ManagedIdentity') {
      throw new InvalidInputError('KH_MANAGED_IDENTITY_PRINCIPAL', "A managed identity's service principal is deleted with its resource: delete the user-assigned identity, or remove the resource's system-assigned identity, through the management API.");
    }
    await this.deps.audit.write(auditEvent(actor, 'serviceprincipal.delete', current.id, { appId: current.app_id }), async (tx) => {
      if (!(await removeServicePrincipal(tx, current.id))) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
    });
  }
}

/** Inside a write: the service principal, its group memberships and its role assignments. */
export async function removeServicePrincipal(tx: Tx, id: string): Promise<boolean> {
  await tx.groupMembers.removeMemberEverywhere(id);
  await tx.roleAssignments.deleteFor(id);
  return tx.servicePrincipals.delete(id);
}
