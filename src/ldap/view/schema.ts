// The attribute types as the view uses them — for filter evaluation, compare and the names
// entries are served under — taken from the published subschema (src/ldap/schema/: RFC 4512
// operational attributes, RFC 4519 core, cosine, inetOrgPerson, NIS/RFC 2307bis, Active
// Directory's user and group attributes, openssh-lpk, sudo). An attribute type the schema does
// not define and the entry does not carry is undefined: a filter item on it is Undefined
// (RFC 4511 §4.5.1.7), never an error — SSSD asks for krbPrincipalName, nsAccountLock… on
// every lookup. Attributes imported from an LDIF (users.extra / groups.extra) that no schema
// defines are known on the entries that carry them and match caseIgnore, or octetString when
// their values are binary (src/ldap/schema/imported-definitions.ts gives them their OIDs).
import { semanticsOf, type AttributeType, type MatchingRule } from '../schema/attribute-semantics.js';
import { importedSemantics } from '../schema/imported-definitions.js';
import { PUBLISHED_ATTRIBUTE_TYPES, publishedAttributeType } from '../schema/published-schema.js';

export type { AttributeType, MatchingRule };

const SEMANTICS = new Map(PUBLISHED_ATTRIBUTE_TYPES.map((t) => [t, semanticsOf(t)]));

/** An attribute description's type (options such as `;binary` make it name nothing here). */
export function attributeType(description: string): AttributeType | undefined {
  if (typeof description !== 'string' || description.includes(';')) return undefined;
  const t = publishedAttributeType(description);
  return t ? SEMANTICS.get(t) : undefined;
}

/** Whether the description names an operational attribute (returned only on request: `+` or by name). */
export function isOperational(description: string): boolean {
  return attributeType(description)?.operational === true;
}

/** The type an imported attribute (not in the schema) gets: caseIgnore text, or octetString if binary. */
export function importedType(name: string, binary: boolean): AttributeType {
  return importedSemantics(name, binary);
}
