// The schemas Keyhaven publishes at cn=Subschema, in load order (a later module may refer to
// an earlier one's names, never the reverse), and lookups of their definitions by any NAME or
// by OID, ignoring case (RFC 4512 §2.5: descriptors are case-insensitive).
//
// Each module is one schema file as slapd loaded it (scripts/generate-ldap-schema.ts):
// slapd's built-ins, core, cosine, inetorgperson, nis (with RFC 2307bis's auxiliary
// posixGroup), msuser (Active Directory's user, group and container classes and their
// attributes), openssh-lpk, sudo, and Keyhaven's own.
import { CORE } from './core.js';
import { COSINE } from './cosine.js';
import type { AttributeTypeDefinition, ObjectClassDefinition, SchemaModule } from './definitions.js';
import { INETORGPERSON } from './inetorgperson.js';
import { KEYHAVEN } from './keyhaven.js';
import { MSUSER } from './msuser.js';
import { NIS } from './nis.js';
import { OPENSSH_LPK } from './openssh-lpk.js';
import { OPERATIONAL } from './rfc4512-operational.js';
import { SUDO } from './sudo.js';

export const SCHEMA_MODULES: readonly SchemaModule[] = [OPERATIONAL, CORE, COSINE, INETORGPERSON, NIS, MSUSER, OPENSSH_LPK, SUDO, KEYHAVEN];

/** The module each attribute type came from (Active Directory's types match by syntax: see attribute-semantics.ts). */
const MODULE_OF = new Map<AttributeTypeDefinition, SchemaModule>();
const TYPES = new Map<string, AttributeTypeDefinition>();
const CLASSES = new Map<string, ObjectClassDefinition>();
for (const m of SCHEMA_MODULES) {
  for (const t of m.attributeTypes) {
    MODULE_OF.set(t, m);
    for (const n of [t.oid, ...t.names]) TYPES.set(n.toLowerCase(), t);
  }
  for (const c of m.objectClasses) for (const n of [c.oid, ...c.names]) CLASSES.set(n.toLowerCase(), c);
}

export const PUBLISHED_ATTRIBUTE_TYPES: readonly AttributeTypeDefinition[] = SCHEMA_MODULES.flatMap((m) => m.attributeTypes);
export const PUBLISHED_OBJECT_CLASSES: readonly ObjectClassDefinition[] = SCHEMA_MODULES.flatMap((m) => m.objectClasses);

/** A published attribute type by NAME or OID (no options: `cn;lang-en` names nothing here). */
export function publishedAttributeType(nameOrOid: string): AttributeTypeDefinition | undefined {
  return TYPES.get(nameOrOid.toLowerCase());
}

export function publishedObjectClass(nameOrOid: string): ObjectClassDefinition | undefined {
  return CLASSES.get(nameOrOid.toLowerCase());
}

export function isActiveDirectoryType(t: AttributeTypeDefinition): boolean {
  return MODULE_OF.get(t) === MSUSER;
}
