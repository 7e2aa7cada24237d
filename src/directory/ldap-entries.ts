// Imported LDAP entries that are neither users nor groups (storage: ldap_entries, migration
// 0005): an export's base (`dc=example,dc=org` with `o: Example Inc.` on an organization),
// its containers (`ou=people` with a description) and its bind-only accounts (`cn=reader`, a
// person/simpleSecurityObject/organizationalRole with a userPassword, as OpenLDAP directories
// keep for search clients). The LDAP view serves them as imported; a bind-only account binds
// with its original DN and password as the service principal the import made for it, which
// holds no directory role until an administrator grants one (Directory Readers).
//
// The naming contexts of imported trees (the suffix of each tree the imports brought in) are
// kept in the settings row `ldap.importedNamingContexts` (a JSON array of DNs), written by the
// import in its transaction; the LDAP view lists them in the Root DSE beside ldapBaseDn.
import type { Repos } from '../storage/storage.js';
import type { LdapEntryRow } from '../storage/repos/ldap-entry-repo.js';
import type { ExtraAttributes } from './extra-attributes.js';
import { normalizeDn } from './ldif/ldif-dn.js';

export const NAMING_CONTEXTS_SETTING = 'ldap.importedNamingContexts';

export interface ImportedLdapEntry {
  id: string;
  /** The DN as the import gave it. */
  dn: string;
  objectClasses: string[];
  /** Every attribute but objectClass and passwords, as imported (binary ones { base64 }). */
  attributes: ExtraAttributes;
  /** A bind-only account: the service principal it binds as; null for other entries. */
  servicePrincipalId: string | null;
  createdAt: string;
}

export function toImportedEntry(row: LdapEntryRow): ImportedLdapEntry {
  return {
    id: row.id,
    dn: row.dn,
    objectClasses: parseJson<string[]>(row.object_classes, []),
    attributes: parseJson<ExtraAttributes>(row.attributes, {}),
    servicePrincipalId: row.service_principal_id,
    createdAt: row.created_at,
  };
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** The imported entry with this DN, compared as LDAP compares DNs (case, spacing, escapes). */
export async function findEntryByDn(repos: Repos, dn: string): Promise<LdapEntryRow | undefined> {
  if (typeof dn !== 'string' || dn.length === 0 || dn.length > 4096 || /\p{Cc}/u.test(dn)) return undefined;
  const key = normalizeDn(dn);
  if (key === undefined || key === '') return undefined;
  const direct = await repos.ldapEntries.byDn(dn);
  if (direct && normalizeDn(direct.dn) === key) return direct;
  // Other spellings: the table holds a tree's few structural entries and accounts.
  return (await repos.ldapEntries.all()).find((r) => normalizeDn(r.dn) === key);
}

export async function importedNamingContexts(repos: Repos): Promise<string[]> {
  const stored = await repos.settings.get(NAMING_CONTEXTS_SETTING);
  const parsed = stored === undefined ? [] : parseJson<unknown>(stored, []);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}
