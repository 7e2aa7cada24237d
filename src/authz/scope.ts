// Scopes are resource-id prefixes ("Understand scope for Azure RBAC"): `/` (the tenant root),
// `/subscriptions/{id}`, `…/resourceGroups/{name}`, a resource's id. A role assigned at a scope
// applies to it and to everything below it. Compared ignoring case, segment by segment.

/** The comparison key of a scope: lower case, no trailing slash; the root is ''. */
export function scopeKey(scope: string): string {
  const lower = scope.toLowerCase();
  return lower === '/' ? '' : lower.replace(/\/+$/, '');
}

/** Whether `target` is `scope` or lies below it (both as scopeKey()). */
export function isAtOrBelow(targetKey: string, scopeKeyValue: string): boolean {
  return scopeKeyValue === '' || targetKey === scopeKeyValue || targetKey.startsWith(`${scopeKeyValue}/`);
}
