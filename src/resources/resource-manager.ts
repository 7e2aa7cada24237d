// The resource tree: subscriptions, resource groups and every provider's resources, stored
// generically (ARM's envelope: id, name, type, location, tags, properties, identity,
// systemData, etag). Authorization happens before a call reaches here (the face asks the
// Authorizer with the target's id as scope); this holds the rules every type shares —
// a resource lives in an existing group of an existing subscription, its location never
// changes, ETags guard concurrent writes, a group's deletion takes what is in it (and the
// role assignments at or below it) — and asks the type's provider for the rest.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { auditEvent, type Actor } from '../directory/directory-context.js';
import { ConflictError, InvalidInputError, NotFoundError, PreconditionFailedError } from '../errors.js';
import type { ArmResourceRow } from '../storage/repos/arm-resource-repo.js';
import type { ArmSubscriptionRow } from '../storage/repos/arm-subscription-repo.js';
import { isUniqueViolation, type Storage, type Tx } from '../storage/storage.js';
import { OWNER } from '../authz/builtin-roles.js';
import { fullType, printable, targetId, type ResourceTarget } from './resource-id.js';
import { mergeIdentityPatch } from './resource-identity.js';
import type { ResourceTypes, StoredResource } from './resource-types.js';

export const RESOURCE_GROUP_TYPE = 'Microsoft.Resources/resourceGroups';
export const SETTING_DEFAULT_SUBSCRIPTION = 'default_subscription_id';

/** Who writes: the actor plus what systemData shows (a user's UPN or an application's appId). */
export interface ArmActor extends Actor {
  name: string;
  principalType: 'User' | 'Application';
}

export interface Subscription {
  subscriptionId: string;
  displayName: string;
  state: string;
}

export interface WriteConditions {
  /** If-Match: the etag the client read, or `*` (must exist). */
  ifMatch?: string | undefined;
  /** If-None-Match: `*` (must not exist). */
  ifNoneMatch?: string | undefined;
}

export interface Page<T> {
  value: T[];
  /** Keyset position for the next page, when there is one. */
  next?: string;
}

export interface ResourceListQuery {
  subscriptionId: string;
  resourceGroup?: string | undefined;
  type?: string | undefined;
  name?: string | undefined;
  after?: string | undefined;
  limit: number;
  /** Keeps only what the caller may read (one decision per resource). */
  visible: (resource: StoredResource) => boolean;
}

const MAX_TAGS = 50;

type GroupTarget = Extract<ResourceTarget, { kind: 'resourceGroup' }>;
type ItemTarget = Extract<ResourceTarget, { kind: 'resource' }>;

export class ResourceManager {
  constructor(private readonly deps: { storage: Storage; audit: AuditLog; types: ResourceTypes }) {}

  get types(): ResourceTypes {
    return this.deps.types;
  }

  // Subscriptions ----------------------------------------------------------------------

  async subscriptions(): Promise<Subscription[]> {
    return (await this.deps.storage.read.armSubscriptions.all()).map(toSubscription);
  }

  async subscription(id: string): Promise<Subscription | undefined> {
    const row = await this.deps.storage.read.armSubscriptions.byId(id.toLowerCase());
    return row ? toSubscription(row) : undefined;
  }

  async requireSubscription(id: string): Promise<Subscription> {
    const sub = await this.subscription(id);
    if (!sub) throw new NotFoundError('KH_ARM_SUBSCRIPTION_NOT_FOUND', `The subscription '${printable(id)}' could not be found.`);
    return sub;
  }

  /** A new subscription, its creator made Owner of it (as Azure makes a subscription's creator its account owner). */
  async createSubscription(actor: ArmActor, displayName: unknown): Promise<Subscription> {
    if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > 64) {
      throw new InvalidInputError('KH_ARM_PROPERTY_INVALID', 'properties.displayName must be a non-empty string of at most 64 characters.');
    }
    const id = randomUUID();
    return this.deps.audit.write(auditEvent(actor, 'subscription.create', id, { displayName: displayName.slice(0, 64) }), async (tx) => {
      const row = await insertSubscription(tx, id, displayName.trim());
      await insertOwner(tx, id, actor.id, actor.principalType === 'User' ? 'User' : 'ServicePrincipal');
      return toSubscription(row);
    });
  }

  /**
   * At bootstrap: the default subscription (its id kept in settings, so every replica agrees),
   * and the admin as its Owner — once, when it is first made, so an Owner an operator later
   * removes stays removed.
   */
  async ensureDefaultSubscription(adminId: string): Promise<string> {
    const id = await this.deps.storage.read.settings.setIfAbsent(SETTING_DEFAULT_SUBSCRIPTION, randomUUID());
    if (await this.deps.storage.read.armSubscriptions.byId(id)) return id;
    try {
      await this.deps.audit.write(auditEvent({ id: 'system' }, 'subscription.create', id, { displayName: 'Keyhaven', bootstrap: true }), async (tx) => {
        if (await tx.armSubscriptions.byId(id)) return;
        await insertSubscription(tx, id, 'Keyhaven');
        await insertOwner(tx, id, adminId, 'User');
      });
    } catch (err) {
      // Another replica made it at the same moment.
      if (!isUniqueViolation(err)) throw err;
    }
    return id;
  }

  // Existence (a scope must exist before anything is assigned at it) ----------------------

  async exists(target: ResourceTarget): Promise<boolean> {
    switch (target.kind) {
      case 'root':
        return true;
      case 'subscription':
        return (await this.subscription(target.subscriptionId)) !== undefined;
      default:
        return (await this.deps.storage.read.armResources.byKey(targetId(target).toLowerCase())) !== undefined;
    }
  }

  // Resource groups and resources -------------------------------------------------------

  async get(target: GroupTarget | ItemTarget): Promise<StoredResource> {
    await this.requireSubscription(target.subscriptionId);
    const row = await this.deps.storage.read.armResources.byKey(targetId(target).toLowerCase());
    if (!row) {
      if (target.kind === 'resourceGroup') throw groupNotFound(target.resourceGroup);
      if (!(await this.deps.storage.read.armResources.byKey(groupKey(target)))) throw groupNotFound(target.resourceGroup);
      throw new NotFoundError('KH_ARM_RESOURCE_NOT_FOUND', `The Resource '${printable(fullType(target))}/${printable(target.names.join('/'))}' under resource group '${printable(target.resourceGroup)}' was not found.`);
    }
    return toResource(row);
  }

  /** PUT: creates or replaces. `created` says which (201 or 200). */
  async put(actor: ArmActor, target: GroupTarget | ItemTarget, body: unknown, conditions: WriteConditions = {}): Promise<{ resource: StoredResource; created: boolean }> {
    const input = requireObject(body);
    const id = targetId(target);
    const key = id.toLowerCase();
    const type = target.kind === 'resourceGroup' ? RESOURCE_GROUP_TYPE : fullType(target);
    const name = target.kind === 'resourceGroup' ? target.resourceGroup : target.names[target.names.length - 1]!;
    checkEnvelope(input, id, type, name);
    const provider = target.kind === 'resource' ? this.deps.types.require(type) : undefined;
    const location = normalizeLocation(input['location']);
    const tags = parseTags(input['tags']);
    if (target.kind === 'resourceGroup' && input['identity'] !== undefined) throw new InvalidInputError('KH_ARM_PROPERTY_INVALID', 'A resource group has no identity.');
    await this.requireSubscription(target.subscriptionId);
    const now = new Date().toISOString();
    return this.deps.audit.write(auditEvent(actor, target.kind === 'resourceGroup' ? 'resourceGroup.put' : 'resource.put', id.slice(0, 600)), async (tx) => {
      if (target.kind === 'resource' && !(await tx.armResources.byKey(groupKey(target)))) throw groupNotFound(target.resourceGroup);
      if (target.kind === 'resource' && target.names.length > 1) {
        const parent = targetId({ ...target, types: target.types.slice(0, -1), names: target.names.slice(0, -1) }).toLowerCase();
        if (!(await tx.armResources.byKey(parent))) throw new NotFoundError('KH_ARM_PARENT_RESOURCE_NOT_FOUND', `The parent resource '${printable(parent)}' was not found.`);
      }
      const existingRow = await tx.armResources.byKey(key);
      const existing = existingRow ? toResource(existingRow) : undefined;
      checkConditions(existing, conditions);
      if (existing && existing.location !== location) {
        throw target.kind === 'resourceGroup'
          ? new ConflictError('KH_ARM_GROUP_LOCATION_IMMUTABLE', `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`)
          : new ConflictError('KH_ARM_LOCATION_IMMUTABLE', `The resource '${printable(name)}' already exists in location '${existing.location}' in resource group '${printable(target.resourceGroup)}'. A resource with the same name cannot be created in location '${location}'.`);
      }
      let properties: Record<string, unknown> = { provisioningState: 'Succeeded' };
      let identity: Record<string, unknown> | undefined;
      let extra: Record<string, unknown> = {};
      if (provider) {
        const rest = { ...input };
        for (const k of ['id', 'name', 'type', 'location', 'tags', 'properties', 'identity', 'systemData', 'etag']) delete rest[k];
        const prepared = await provider.prepare({ id, name, location, properties: propertiesOf(input['properties']), identity: input['identity'], body: rest }, existing, tx);
        properties = { ...prepared.properties, provisioningState: 'Succeeded' };
        identity = prepared.identity;
        extra = prepared.extra ?? {};
      } else if (input['managedBy'] !== undefined) {
        if (typeof input['managedBy'] !== 'string' || input['managedBy'].length > 2048) throw new InvalidInputError('KH_ARM_PROPERTY_INVALID', 'managedBy must be a resource id.');
        extra = { managedBy: input['managedBy'] };
      }
      const row: ArmResourceRow = {
        key,
        id: existing?.id ?? id,
        subscription_id: target.subscriptionId,
        resource_group: target.resourceGroup.toLowerCase(),
        type,
        name: existing?.name ?? name,
        location,
        tags: JSON.stringify(tags),
        properties: JSON.stringify(properties),
        identity: identity === undefined ? null : JSON.stringify(identity),
        extra: JSON.stringify(extra),
        etag: newEtag(),
        created_by: existingRow?.created_by ?? actor.name,
        created_by_type: existingRow?.created_by_type ?? actor.principalType,
        created_at: existingRow?.created_at ?? now,
        modified_by: actor.name,
        modified_by_type: actor.principalType,
        modified_at: now,
      };
      if (existingRow) {
        if (!(await tx.armResources.replace(row, existingRow.etag))) throw concurrentChange();
      } else {
        await tx.armResources.insert(row);
      }
      const resource = toResource(row);
      await provider?.afterWrite?.(tx, resource, existing);
      return { resource, created: !existing };
    }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw concurrentChange();
      throw err;
    });
  }

  /** PATCH: tags replaced when given, properties merged into the current ones, then checked as a PUT would be. */
  async patch(actor: ArmActor, target: GroupTarget | ItemTarget, body: unknown, conditions: WriteConditions = {}): Promise<StoredResource> {
    const input = requireObject(body);
    const current = await this.get(target);
    const merged: Record<string, unknown> = {
      location: current.location,
      tags: input['tags'] !== undefined ? input['tags'] : current.tags,
      ...current.extra,
    };
    if (target.kind === 'resource') {
      const props = input['properties'] === undefined ? {} : requireObject(input['properties'], 'properties');
      const base = { ...current.properties };
      delete base['provisioningState'];
      merged['properties'] = { ...base, ...props };
      // ARM merges a PATCH's userAssignedIdentities into the current ones (null detaches one).
      merged['identity'] = input['identity'] !== undefined ? mergeIdentityPatch(current.identity, input['identity']) : current.identity;
    }
    for (const k of Object.keys(input)) if (!['tags', 'properties', 'identity'].includes(k) && k !== 'location') merged[k] = input[k];
    if (input['location'] !== undefined) merged['location'] = input['location'];
    const { resource } = await this.put(actor, target, merged, { ifMatch: conditions.ifMatch ?? current.etag });
    return resource;
  }

  /** DELETE: true if it was deleted, false if there was nothing (ARM's 204). */
  async delete(actor: ArmActor, target: GroupTarget | ItemTarget, conditions: WriteConditions = {}): Promise<boolean> {
    await this.requireSubscription(target.subscriptionId);
    const id = targetId(target);
    const key = id.toLowerCase();
    const current = await this.deps.storage.read.armResources.byKey(key);
    if (!current) {
      if (target.kind === 'resourceGroup') throw groupNotFound(target.resourceGroup);
      if (!(await this.deps.storage.read.armResources.byKey(groupKey(target)))) throw groupNotFound(target.resourceGroup);
      return false;
    }
    return this.deps.audit.write(auditEvent(actor, target.kind === 'resourceGroup' ? 'resourceGroup.delete' : 'resource.delete', id.slice(0, 600)), async (tx) => {
      const row = await tx.armResources.byKey(key);
      if (!row) return false;
      checkConditions(toResource(row), conditions);
      // Children first (a group's resources, a resource's child resources), each told to its provider.
      for (const childKey of (await tx.armResources.keysBelow(key)).sort().reverse()) {
        const child = await tx.armResources.byKey(childKey);
        if (child) await this.deps.types.get(child.type)?.beforeDelete?.(tx, toResource(child));
      }
      await this.deps.types.get(row.type)?.beforeDelete?.(tx, toResource(row));
      await tx.armResources.deleteBelow(key);
      await tx.armResources.delete(key);
      await tx.armRbac.deleteAssignmentsAtOrBelow(key);
      return true;
    });
  }

  /** Resource groups of a subscription, a page at a time. */
  async groups(subscriptionId: string, after: string | undefined, limit: number, visible: (r: StoredResource) => boolean): Promise<Page<StoredResource>> {
    await this.requireSubscription(subscriptionId);
    return this.#page({ subscriptionId, type: RESOURCE_GROUP_TYPE }, after, limit, visible);
  }

  /** Resources of a subscription or group (groups themselves not listed), filtered by type and name. */
  async list(q: ResourceListQuery): Promise<Page<StoredResource>> {
    await this.requireSubscription(q.subscriptionId);
    if (q.resourceGroup !== undefined && !(await this.deps.storage.read.armResources.byKey(`/subscriptions/${q.subscriptionId}/resourcegroups/${q.resourceGroup.toLowerCase()}`))) {
      throw groupNotFound(q.resourceGroup);
    }
    return this.#page(
      { subscriptionId: q.subscriptionId, resourceGroup: q.resourceGroup?.toLowerCase(), type: q.type, name: q.name, excludeType: q.type === undefined ? RESOURCE_GROUP_TYPE : undefined },
      q.after,
      q.limit,
      q.visible,
    );
  }

  async #page(
    filter: { subscriptionId: string; resourceGroup?: string | undefined; type?: string | undefined; name?: string | undefined; excludeType?: string | undefined },
    after: string | undefined,
    limit: number,
    visible: (r: StoredResource) => boolean,
  ): Promise<Page<StoredResource>> {
    const out: StoredResource[] = [];
    let cursor = after;
    // Rows the caller may not read are skipped; keep reading until the page is full or the rows end.
    for (;;) {
      const rows = await this.deps.storage.read.armResources.query({ ...filter, afterKey: cursor, limit: limit + 1 });
      for (const row of rows.slice(0, limit)) {
        const r = toResource(row);
        cursor = row.key;
        if (visible(r)) out.push(r);
        if (out.length === limit) return rows.length > limit || row !== rows[rows.length - 1] ? { value: out, next: row.key } : { value: out };
      }
      if (rows.length <= limit) return { value: out };
    }
  }
}

function toSubscription(row: ArmSubscriptionRow): Subscription {
  return { subscriptionId: row.id, displayName: row.display_name, state: row.state };
}

async function insertSubscription(tx: Tx, id: string, displayName: string): Promise<ArmSubscriptionRow> {
  const now = new Date().toISOString();
  const row: ArmSubscriptionRow = { id, display_name: displayName, state: 'Enabled', created_at: now, updated_at: now };
  await tx.armSubscriptions.insert(row);
  return row;
}

async function insertOwner(tx: Tx, subscriptionId: string, principalId: string, principalType: string): Promise<void> {
  const now = new Date().toISOString();
  const scope = `/subscriptions/${subscriptionId}`;
  await tx.armRbac.insertAssignment({
    id: randomUUID(), scope, scope_key: scope.toLowerCase(), role_definition_id: OWNER, principal_id: principalId.toLowerCase(), principal_type: principalType,
    description: '', created_at: now, updated_at: now, created_by: 'system', updated_by: 'system',
  });
}

function groupKey(target: ItemTarget): string {
  return `/subscriptions/${target.subscriptionId}/resourcegroups/${target.resourceGroup.toLowerCase()}`;
}

function groupNotFound(name: string): NotFoundError {
  return new NotFoundError('KH_ARM_RESOURCE_GROUP_NOT_FOUND', `Resource group '${printable(name)}' could not be found.`);
}

function concurrentChange(): PreconditionFailedError {
  return new PreconditionFailedError('KH_ARM_CONCURRENT_CHANGE', 'The resource was changed by another request at the same time; read it again and retry.');
}

function newEtag(): string {
  return `"${randomUUID()}"`;
}

export function toResource(row: ArmResourceRow): StoredResource {
  const resource: StoredResource = {
    id: row.id,
    name: row.name,
    type: row.type,
    location: row.location,
    tags: JSON.parse(row.tags) as Record<string, string>,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    extra: JSON.parse(row.extra) as Record<string, unknown>,
    etag: row.etag,
    systemData: {
      createdBy: row.created_by,
      createdByType: row.created_by_type,
      createdAt: row.created_at,
      lastModifiedBy: row.modified_by,
      lastModifiedByType: row.modified_by_type,
      lastModifiedAt: row.modified_at,
    },
  };
  if (row.identity !== null) resource.identity = JSON.parse(row.identity) as Record<string, unknown>;
  return resource;
}

function checkConditions(existing: StoredResource | undefined, c: WriteConditions): void {
  if (c.ifMatch !== undefined && (existing === undefined || (c.ifMatch !== '*' && c.ifMatch !== existing.etag))) {
    throw new PreconditionFailedError('KH_ARM_PRECONDITION_FAILED', 'The condition specified using HTTP conditional header(s) is not met.');
  }
  if (c.ifNoneMatch !== undefined && existing !== undefined && (c.ifNoneMatch === '*' || c.ifNoneMatch === existing.etag)) {
    throw new PreconditionFailedError('KH_ARM_PRECONDITION_FAILED', 'The condition specified using HTTP conditional header(s) is not met.');
  }
}

function requireObject(value: unknown, what = 'The request body'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('KH_ARM_REQUEST_CONTENT_INVALID', `${what} must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}

function propertiesOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  return requireObject(value, 'properties');
}

/** id, type and name in a body, when given, must be the ones the URL names: a PUT never moves or retypes a resource. */
function checkEnvelope(input: Record<string, unknown>, id: string, type: string, name: string): void {
  const same = (v: unknown, expected: string) => v === undefined || v === null || (typeof v === 'string' && v.toLowerCase() === expected.toLowerCase());
  if (!same(input['id'], id)) throw new InvalidInputError('KH_ARM_ID_MISMATCH', `The id in the request body must be the resource id of the request URI ('${printable(id)}').`);
  if (!same(input['type'], type)) throw new InvalidInputError('KH_ARM_TYPE_MISMATCH', `The type in the request body must be '${type}': a resource's type cannot be changed.`);
  if (!same(input['name'], name)) throw new InvalidInputError('KH_ARM_NAME_MISMATCH', `The name in the request body must be '${printable(name)}'.`);
}

/** ARM's location form: "West Europe" and "westeurope" are one location. */
export function normalizeLocation(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9 ]{1,64}$/.test(value) || value.trim() === '') {
    throw new InvalidInputError('KH_ARM_LOCATION_REQUIRED', "The 'location' property is required: a location name such as 'westeurope'.");
  }
  return value.replace(/ /g, '').toLowerCase();
}

/** Tags: at most 50 pairs, names up to 512 characters, values up to 256 ("Use tags to organize your Azure resources"). */
export function parseTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError('KH_ARM_TAGS_INVALID', 'tags must be an object of string values.');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_TAGS) throw new InvalidInputError('KH_ARM_TAGS_INVALID', `At most ${MAX_TAGS} tags may be set.`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k === '' || k.length > 512 || /[<>%&\\?/\u0000-\u001f]/.test(k)) throw new InvalidInputError('KH_ARM_TAGS_INVALID', `The tag name '${printable(k)}' is invalid.`);
    if (typeof v !== 'string' || v.length > 256) throw new InvalidInputError('KH_ARM_TAGS_INVALID', `The value of tag '${printable(k)}' must be a string of at most 256 characters.`);
    out[k] = v;
  }
  return out;
}
