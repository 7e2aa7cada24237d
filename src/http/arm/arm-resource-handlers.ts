// Subscriptions, resource groups and providers' resources: authorize (the operation at the
// target's id, before anything about the target is looked up, so a caller without the
// permission learns nothing of whether it exists) → check the api-version → act → answer.
import { authorizationFailed, linkedAuthorizationFailed } from '../../authz/authorizer.js';
import { NotFoundError } from '../../errors.js';
import {
  RESOURCES_API_VERSIONS,
  SUBSCRIPTION_ALIAS_API_VERSIONS,
  SUBSCRIPTIONS_API_VERSIONS,
  checkApiVersion,
} from '../../resources/api-versions.js';
import { checkResourceGroupName, checkSubscriptionId, fullType, parseTarget, printable, targetId, type ResourceTarget } from '../../resources/resource-id.js';
import { RESOURCE_GROUP_TYPE } from '../../resources/resource-manager.js';
import type { StoredResource } from '../../resources/resource-types.js';
import { resourceJson, resourceListItem, subscriptionJson, tenantJson } from './arm-shapes.js';
import { keyVaultSubscriptionOperations } from './arm-keyvault-handlers.js';
import { isMachinePath, machinePath } from './arm-machine-handlers.js';
import { eqFilter, listBody, methodNotAllowed, nextLink, pageSize, skipToken, type ArmCall, type ArmDeps } from './arm-context.js';

const GROUP_OPS = { read: 'Microsoft.Resources/subscriptions/resourceGroups/read', write: 'Microsoft.Resources/subscriptions/resourceGroups/write', delete: 'Microsoft.Resources/subscriptions/resourceGroups/delete' };

function readMethod(call: ArmCall): void {
  if (call.request.method !== 'GET' && call.request.method !== 'HEAD') methodNotAllowed(call.request.method);
}

function conditions(call: ArmCall) {
  const h = call.request.headers;
  return {
    ifMatch: typeof h['if-match'] === 'string' ? h['if-match'] : undefined,
    ifNoneMatch: typeof h['if-none-match'] === 'string' ? h['if-none-match'] : undefined,
  };
}

export async function listSubscriptions(deps: ArmDeps, call: ArmCall): Promise<unknown> {
  readMethod(call);
  checkApiVersion(call.query['api-version'], SUBSCRIPTIONS_API_VERSIONS, 'subscriptions');
  const out = [];
  for (const s of await deps.resources.subscriptions()) {
    if (await deps.authorizer.touches(call.principal.objectId, `/subscriptions/${s.subscriptionId}`)) out.push(subscriptionJson(s, deps.tenantId));
  }
  return { value: out, count: { type: 'Total', value: out.length } };
}

export async function listTenants(deps: ArmDeps, call: ArmCall): Promise<unknown> {
  readMethod(call);
  checkApiVersion(call.query['api-version'], SUBSCRIPTIONS_API_VERSIONS, 'tenants');
  return { value: [tenantJson(deps.tenantId, deps.tenantDomain)] };
}

export async function getSubscription(deps: ArmDeps, call: ArmCall, subscriptionId: string): Promise<unknown> {
  readMethod(call);
  checkApiVersion(call.query['api-version'], SUBSCRIPTIONS_API_VERSIONS, 'subscriptions');
  const scope = `/subscriptions/${subscriptionId}`;
  // A caller with any role in the subscription sees it, as az account show needs.
  if (!(await deps.authorizer.touches(call.principal.objectId, scope))) throw authorizationFailed(call.principal.objectId, 'Microsoft.Resources/subscriptions/read', scope);
  return subscriptionJson(await deps.resources.requireSubscription(subscriptionId), deps.tenantId);
}

/** PUT /providers/Microsoft.Subscription/aliases/{name}: a new subscription (its creator is its Owner). */
export async function createSubscriptionAlias(deps: ArmDeps, call: ArmCall, alias: string): Promise<unknown> {
  if (call.request.method !== 'PUT') methodNotAllowed(call.request.method);
  checkApiVersion(call.query['api-version'], SUBSCRIPTION_ALIAS_API_VERSIONS, 'Microsoft.Subscription/aliases', true);
  await deps.authorizer.require(call.principal.objectId, 'Microsoft.Subscription/aliases/write', '/');
  const body = call.request.body as { properties?: { displayName?: unknown } } | undefined;
  const sub = await deps.resources.createSubscription(call.actor, body?.properties?.displayName);
  call.reply.status(201);
  return { id: `/providers/Microsoft.Subscription/aliases/${alias}`, name: alias, type: 'Microsoft.Subscription/aliases', properties: { subscriptionId: sub.subscriptionId, provisioningState: 'Succeeded' } };
}

export async function listGroups(deps: ArmDeps, call: ArmCall, subscriptionId: string): Promise<unknown> {
  readMethod(call);
  checkApiVersion(call.query['api-version'], RESOURCES_API_VERSIONS, 'resourceGroups');
  const scope = `/subscriptions/${subscriptionId}`;
  if (!(await deps.authorizer.touches(call.principal.objectId, scope))) throw authorizationFailed(call.principal.objectId, GROUP_OPS.read, scope);
  // No $filter is supported on groups: one given is refused rather than ignored.
  eqFilter(call.query['$filter'], []);
  const can = await deps.authorizer.decider(call.principal.objectId);
  const page = await deps.resources.groups(subscriptionId, skipToken(call.query, scope.toLowerCase()), pageSize(call.query), (r) => can(GROUP_OPS.read, r.id));
  return listBody(page.value.map(resourceJson), nextLink(call, deps.publicUrl, page.next));
}

/** GET …/resources, …/resourceGroups/{rg}/resources and …/providers/{ns}/{type} listings. */
export async function listResources(deps: ArmDeps, call: ArmCall, subscriptionId: string, resourceGroup: string | undefined, type: string | undefined): Promise<unknown> {
  readMethod(call);
  if (type !== undefined) {
    const provider = deps.resources.types.require(type);
    checkApiVersion(call.query['api-version'], provider.apiVersions, type.split('/').slice(1).join('/'), true);
  } else {
    checkApiVersion(call.query['api-version'], RESOURCES_API_VERSIONS, 'resources');
  }
  const scope = resourceGroup === undefined ? `/subscriptions/${subscriptionId}` : `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
  if (!(await deps.authorizer.touches(call.principal.objectId, scope))) {
    throw authorizationFailed(call.principal.objectId, resourceGroup === undefined ? 'Microsoft.Resources/subscriptions/resources/read' : 'Microsoft.Resources/subscriptions/resourceGroups/resources/read', scope);
  }
  const filter = type === undefined ? eqFilter(call.query['$filter'], ['name', 'resourceType']) : eqFilter(call.query['$filter'], ['name']);
  const can = await deps.authorizer.decider(call.principal.objectId);
  const page = await deps.resources.list({
    subscriptionId,
    resourceGroup,
    type: type ?? filter['resourceType'],
    name: filter['name'],
    after: skipToken(call.query, `/subscriptions/${subscriptionId}/`),
    limit: pageSize(call.query),
    visible: (r: StoredResource) => can(`${r.type}/read`, r.id),
  });
  return listBody(page.value.map(type === undefined ? resourceListItem : resourceJson), nextLink(call, deps.publicUrl, page.next));
}

/** GET/HEAD/PUT/PATCH/DELETE of one resource group or resource. */
export async function resourceItem(deps: ArmDeps, call: ArmCall, target: Extract<ResourceTarget, { kind: 'resourceGroup' | 'resource' }>): Promise<unknown> {
  const isGroup = target.kind === 'resourceGroup';
  const type = isGroup ? RESOURCE_GROUP_TYPE : fullType(target);
  if (isGroup) checkApiVersion(call.query['api-version'], RESOURCES_API_VERSIONS, 'resourceGroups');
  else checkApiVersion(call.query['api-version'], deps.resources.types.require(type).apiVersions, target.types.join('/'), true);
  const id = targetId(target);
  const method = call.request.method;
  const verb = method === 'GET' || method === 'HEAD' ? 'read' : method === 'PUT' || method === 'PATCH' ? 'write' : method === 'DELETE' ? 'delete' : methodNotAllowed(method);
  const operation = isGroup ? GROUP_OPS[verb] : `${type}/${verb}`;
  await deps.authorizer.require(call.principal.objectId, operation, id);
  if (verb === 'read') {
    if (method === 'HEAD') {
      // az group exists: 204 when it exists, 404 when not (no body either way).
      try {
        await deps.resources.get(target);
        call.reply.status(204);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        call.reply.status(404);
      }
      return '';
    }
    const resource = await deps.resources.get(target);
    if (!isGroup) call.reply.header('etag', resource.etag);
    return resourceJson(resource);
  }
  if (verb === 'write') {
    if (!isGroup) {
      const provider = deps.resources.types.require(type);
      const body = call.request.body as Record<string, unknown> | undefined;
      const linked = provider.linkedPermissions?.({ id, name: target.names.at(-1)!, location: '', properties: {}, identity: body?.['identity'], body: body ?? {} }) ?? [];
      const can = linked.length > 0 ? await deps.authorizer.decider(call.principal.objectId) : undefined;
      const refused = linked.filter((l) => !can!(l.operation, l.scope));
      if (refused.length > 0) throw linkedAuthorizationFailed(call.principal.objectId, operation, id, refused);
    }
    if (method === 'PATCH') {
      const resource = await deps.resources.patch(call.actor, target, call.request.body, conditions(call));
      if (!isGroup) call.reply.header('etag', resource.etag);
      return resourceJson(resource);
    }
    const { resource, created } = await deps.resources.put(call.actor, target, call.request.body, conditions(call));
    call.reply.status(created ? 201 : 200);
    if (!isGroup) call.reply.header('etag', resource.etag);
    return resourceJson(resource);
  }
  // DELETE is done at once (the group and everything in it in one transaction): 200, or 204
  // for a resource that was not there, as ARM answers a completed delete.
  const deleted = await deps.resources.delete(call.actor, target, conditions(call));
  call.reply.status(deleted ? 200 : 204);
  return '';
}

/** Routes /subscriptions/{id}/… below the subscription. */
export async function subscriptionTree(deps: ArmDeps, call: ArmCall): Promise<unknown> {
  const { segments, lower } = call;
  const subscriptionId = checkSubscriptionId(segments[1]!);
  if (segments.length === 2) return getSubscription(deps, call, subscriptionId);
  if (lower[2] === 'resources' && segments.length === 3) return listResources(deps, call, subscriptionId, undefined, undefined);
  if (lower[2] === 'providers' && lower[3] === 'microsoft.keyvault' && (lower[4] === 'deletedvaults' || lower[4] === 'locations')) {
    return keyVaultSubscriptionOperations(deps, call, subscriptionId, segments.slice(4));
  }
  if (lower[2] === 'providers' && segments.length === 5) return listResources(deps, call, subscriptionId, undefined, `${segments[3]}/${segments[4]}`);
  if (lower[2] === 'resourcegroups') {
    if (segments.length === 3) return listGroups(deps, call, subscriptionId);
    const resourceGroup = checkResourceGroupName(segments[3]!);
    if (segments.length === 5 && lower[4] === 'resources') return listResources(deps, call, subscriptionId, resourceGroup, undefined);
    if (segments.length === 7 && lower[4] === 'providers') return listResources(deps, call, subscriptionId, resourceGroup, `${segments[5]}/${segments[6]}`);
    if (isMachinePath(lower)) return machinePath(deps, call);
    const target = parseTarget(segments);
    if (target.kind === 'resourceGroup' || target.kind === 'resource') return resourceItem(deps, call, target);
  }
  throw new NotFoundError('KH_ARM_NO_SUCH_PATH', `No route for '${printable(call.request.url.split('?')[0]!)}'.`);
}

