// An entry as one caller is served it: the attributes the directory's rule for that caller
// lets through (ScopedReader.attributeRule, src/directory/scoped-reader.ts). The view decides
// nothing here; it applies the capability the directory handed it, to the entry as served —
// the same entry the filter is then evaluated on, so a hidden attribute cannot be probed by a
// filter either.
import type { LdapAttribute, LdapEntry } from '../ldap-directory.js';

export function visibleEntry(entry: LdapEntry, rule: ((name: string) => boolean) | undefined): LdapEntry {
  if (rule === undefined) return entry;
  let hidden = false;
  for (const key of entry.attributes.keys()) {
    if (!rule(key)) {
      hidden = true;
      break;
    }
  }
  if (!hidden) return entry;
  const attributes = new Map<string, LdapAttribute>();
  for (const [key, attr] of entry.attributes) if (rule(key)) attributes.set(key, attr);
  return { dn: entry.dn, attributes };
}
