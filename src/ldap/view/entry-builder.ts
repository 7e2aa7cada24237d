// Building an LdapEntry: attributes keyed by lower-cased name, each under the name the schema
// spells, empty values dropped, duplicates (by the attribute's equality) left to the caller.
import type { ExtraAttributes } from '../../directory/extra-attributes.js';
import type { LdapAttribute, LdapEntry } from '../ldap-directory.js';
import { SUBSCHEMA_DN } from '../schema/subschema-entry.js';
import { attributeType } from './schema.js';

/** Attributes an extra attribute never replaces: identity and membership Keyhaven computes. */
const PROTECTED: ReadonlySet<string> = new Set([
  'objectclass', 'objectguid', 'objectsid', 'entryuuid', 'entrydn', 'memberof', 'member', 'uniquemember', 'memberuid',
  'samaccounttype', 'hassubordinates', 'userpassword',
]);

export class EntryBuilder {
  readonly attributes = new Map<string, LdapAttribute>();

  constructor(readonly dn: string) {}

  set(name: string, ...values: (string | Buffer | number | null | undefined)[]): this {
    const kept = values.filter((v): v is string | Buffer | number => v !== null && v !== undefined && v !== '').map((v) => (typeof v === 'number' ? String(v) : v));
    if (kept.length === 0) return this;
    const served = attributeType(name)?.name ?? name;
    this.attributes.set(served.toLowerCase(), { name: served, values: kept });
    return this;
  }

  /**
   * Imported attributes (LDIF) and those an admin set: text as strings, `{ base64 }` as bytes.
   * They replace what Keyhaven synthesises under the same name (gecos, whenCreated, …): the
   * import's value is the entry's. Modelled attributes never reach here (extra-attributes.ts
   * refuses them); `protect` names the few that must stay Keyhaven's own.
   */
  extras(extra: ExtraAttributes, protect: ReadonlySet<string> = PROTECTED): this {
    for (const [name, values] of Object.entries(extra)) {
      const served = attributeType(name)?.name ?? name;
      if (protect.has(served.toLowerCase())) continue;
      const decoded = values.map((v) => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64')));
      if (decoded.length > 0) this.attributes.set(served.toLowerCase(), { name: served, values: decoded });
    }
    return this;
  }

  /** Every entry names the subschema that governs it (RFC 4512 §4.2), an operational attribute. */
  build(): LdapEntry {
    if (!this.attributes.has('subschemasubentry')) this.attributes.set('subschemasubentry', { name: 'subschemaSubentry', values: [SUBSCHEMA_DN] });
    return { dn: this.dn, attributes: this.attributes };
  }
}

/**
 * Keyhaven's object classes followed by those an LDIF import kept (`account`, `shadowAccount`,
 * `groupOfUniqueNames`, …) that it does not already name, compared ignoring case.
 */
export function withSourceClasses(classes: string[], imported: readonly string[] | undefined): string[] {
  const known = new Set(classes.map((c) => c.toLowerCase()));
  for (const c of imported ?? []) {
    const key = c.trim().toLowerCase();
    if (key === '' || known.has(key)) continue;
    known.add(key);
    classes.push(c.trim());
  }
  return classes;
}
