// Resource ids and scopes as Azure Resource Manager spells them:
//   /subscriptions/{guid}
//   /subscriptions/{guid}/resourceGroups/{name}
//   /subscriptions/{guid}/resourceGroups/{name}/providers/{Namespace}/{type}/{name}[/{type}/{name}]…
// parsed from path segments a face has already split and percent-decoded. Every segment is
// checked here, so nothing that reaches storage or an audit record holds `..`, a slash, a
// control character or an over-long name. Keywords (subscriptions, resourceGroups, providers)
// are matched ignoring case, as ARM does; the client's spelling of names is kept.
import { InvalidInputError } from '../errors.js';

export type ResourceTarget =
  | { kind: 'root' }
  | { kind: 'subscription'; subscriptionId: string }
  | { kind: 'resourceGroup'; subscriptionId: string; resourceGroup: string }
  | { kind: 'resource'; subscriptionId: string; resourceGroup: string; namespace: string; types: string[]; names: string[] };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// "Naming rules and restrictions for Azure resources": resource group names are 1–90
// characters of letters, digits, underscores, hyphens, periods and parentheses, not ending in a period.
const RESOURCE_GROUP_NAME = /^[-\p{L}\p{N}_.()]{1,90}$/u;
const NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9]{0,62}$/;
// A resource name: at most 260 characters, none of ARM's forbidden <>*%&:\?/# nor control characters.
const RESOURCE_NAME = /^[^<>*%&:\\?/#\u0000-\u001f\u007f]{1,260}$/;

export function invalidId(message: string): InvalidInputError {
  return new InvalidInputError('KH_ARM_INVALID_RESOURCE_ID', message);
}

export function isSubscriptionId(value: string): boolean {
  return GUID.test(value);
}

export function checkSubscriptionId(value: string): string {
  if (!GUID.test(value)) throw new InvalidInputError('KH_ARM_INVALID_SUBSCRIPTION_ID', `The provided subscription identifier '${printable(value)}' is malformed or invalid.`);
  return value.toLowerCase();
}

export function checkResourceGroupName(value: string): string {
  if (!RESOURCE_GROUP_NAME.test(value) || value.endsWith('.')) {
    throw new InvalidInputError('KH_ARM_INVALID_RESOURCE_GROUP_NAME', `Resource group name '${printable(value)}' is invalid: it must be 1 to 90 letters, digits, underscores, hyphens, periods or parentheses, not ending in a period.`);
  }
  return value;
}

export function checkResourceName(value: string): string {
  if (!RESOURCE_NAME.test(value) || value === '.' || value === '..' || /[. ]$/.test(value)) {
    throw new InvalidInputError('KH_ARM_INVALID_RESOURCE_NAME', `The resource name '${printable(value)}' is invalid.`);
  }
  return value;
}

/** A scope or resource id from its segments (already split on `/` and decoded). */
export function parseTarget(segments: readonly string[]): ResourceTarget {
  if (segments.length === 0) return { kind: 'root' };
  if (segments[0]!.toLowerCase() !== 'subscriptions' || segments.length < 2) throw invalidId(`'/${segments.map(printable).join('/')}' is not a valid scope or resource id.`);
  const subscriptionId = checkSubscriptionId(segments[1]!);
  if (segments.length === 2) return { kind: 'subscription', subscriptionId };
  if (segments[2]!.toLowerCase() !== 'resourcegroups' || segments.length < 4) throw invalidId(`'/${segments.map(printable).join('/')}' is not a valid scope or resource id.`);
  const resourceGroup = checkResourceGroupName(segments[3]!);
  if (segments.length === 4) return { kind: 'resourceGroup', subscriptionId, resourceGroup };
  const rest = segments.slice(4);
  if (rest[0]!.toLowerCase() !== 'providers' || rest.length < 4 || (rest.length - 2) % 2 !== 0) {
    throw invalidId(`'/${segments.map(printable).join('/')}' is not a valid resource id: expected …/providers/{namespace}/{type}/{name}.`);
  }
  const namespace = rest[1]!;
  if (!NAMESPACE.test(namespace)) throw invalidId(`'${printable(namespace)}' is not a resource provider namespace.`);
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 2; i < rest.length; i += 2) {
    if (!TYPE_NAME.test(rest[i]!)) throw invalidId(`'${printable(rest[i]!)}' is not a resource type.`);
    types.push(rest[i]!);
    names.push(checkResourceName(rest[i + 1]!));
  }
  return { kind: 'resource', subscriptionId, resourceGroup, namespace, types, names };
}

/** Splits an id (`/subscriptions/…`) given as a string (a body's `scope`, assignableScopes). */
export function parseIdString(id: string): ResourceTarget {
  if (typeof id !== 'string' || id.length > 2048 || !id.startsWith('/')) throw invalidId('A resource id must start with /.');
  if (id === '/') return { kind: 'root' };
  const segments = id.replace(/\/$/, '').slice(1).split('/');
  for (const s of segments) checkSegment(s);
  return parseTarget(segments);
}

/** One path segment: not empty, not `.` or `..`, no control characters. */
export function checkSegment(segment: string): void {
  if (segment === '' || segment === '.' || segment === '..' || /[\u0000-\u001f\u007f\\]/.test(segment) || segment.length > 400) {
    throw invalidId('The request path holds an empty, dot or otherwise invalid segment.');
  }
}

/** The id of a target, in the spelling given (keywords as ARM writes them). */
export function targetId(t: ResourceTarget): string {
  switch (t.kind) {
    case 'root':
      return '/';
    case 'subscription':
      return `/subscriptions/${t.subscriptionId}`;
    case 'resourceGroup':
      return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}`;
    case 'resource':
      return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/${t.namespace}/${t.types.map((ty, i) => `${ty}/${t.names[i]}`).join('/')}`;
  }
}

/** `Namespace/type[/childType]` of a resource target. */
export function fullType(t: Extract<ResourceTarget, { kind: 'resource' }>): string {
  return [t.namespace, ...t.types].join('/');
}

/** Shown in messages: printable ASCII, bounded. */
export function printable(value: string): string {
  const p = value.replace(/[^\x20-\x7e]/g, '?');
  return p.length > 120 ? `${p.slice(0, 120)}…` : p;
}
