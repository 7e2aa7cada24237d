// Matching an operation (`Microsoft.Compute/virtualMachines/read`) against a role's action
// patterns, as Azure RBAC does ("Understand Azure role definitions", Actions): comparison
// ignores case, and `*` stands for any characters. A `*` that is a whole path segment
// (`…/userAssignedIdentities/*/assign/action`) also stands for no segment at all: Managed
// Identity Operator's `userAssignedIdentities/*/assign/action` is what grants
// `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action`, and Key Vault Reader's
// `vaults/*/read` lets it read a vault (`Microsoft.KeyVault/vaults/read`), as Azure documents
// those roles to do.

export type ActionPattern = (operation: string) => boolean;

const cache = new Map<string, ActionPattern>();

export function actionPattern(pattern: string): ActionPattern {
  const key = pattern.toLowerCase();
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compile(key);
    if (cache.size < 10_000) cache.set(key, compiled);
  }
  return compiled;
}

function compile(pattern: string): ActionPattern {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (operation) => operation.toLowerCase() === pattern;
  // Segments: a lone `*` may match zero or more segments; `*` inside a segment any characters.
  const parts = pattern.split('/');
  let source = '^';
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === '*') {
      source += last ? '.*' : '(?:[^]*/)?';
      return;
    }
    source += part.split('*').map(escape).join('[^]*') + (last ? '' : '/');
  });
  const regex = new RegExp(`${source}$`);
  return (operation) => regex.test(operation.toLowerCase());
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `operation` is one of `patterns` and none of `excluded` (actions minus notActions). */
export function permits(patterns: readonly string[], excluded: readonly string[], operation: string): boolean {
  return patterns.some((p) => actionPattern(p)(operation)) && !excluded.some((p) => actionPattern(p)(operation));
}

/** An action name as role definitions may hold it: provider/segments, letters, digits, `.-_*`. */
export const ACTION_SYNTAX = /^(\*|[A-Za-z0-9*][A-Za-z0-9.*_-]*(\/[A-Za-z0-9.*_-]+)+)$/;
