// Definitions for what imported entries carry that no published schema defines: an LDIF from
// a directory with a local schema (`employeeBadge`, `sambaSID`, `eduPersonAffiliation`, …)
// brings attribute types and object classes Keyhaven has never seen. They are served as
// imported (entry-builder.ts), so they are published too: Python's ldap3, at its default
// settings, refuses on the client side to request or filter on any name the subschema lacks.
//
// An LDIF carries no schema (slapcat and ldifde export entries only), so each such name gets
// a definition of Keyhaven's making:
//  - attribute type: OID {Keyhaven arc}.3.{n}, Directory String syntax with caseIgnoreMatch
//    and caseIgnoreSubstringsMatch (how Keyhaven matches them), multi-valued; Octet String
//    with octetStringMatch when a value came base64-encoded and is not UTF-8 text;
//  - object class: OID {Keyhaven arc}.4.{n}, AUXILIARY, SUP top.
// {n} is the first 63 bits of SHA-256 over the lower-cased name, as a decimal number: the
// same name gets the same OID on every replica and across restarts with nothing stored, and
// it fits the signed 64-bit arcs some clients parse OIDs into. The Keyhaven arc is described
// in scripts/ldap-schema/keyhaven.schema.
import { createHash } from 'node:crypto';
import { SYNTAX, type AttributeType } from './attribute-semantics.js';
import type { AttributeTypeDefinition, ObjectClassDefinition } from './definitions.js';

export const KEYHAVEN_ARC = '2.25.93290484750876975698434575656617420528';

function arcOf(name: string): string {
  const digest = createHash('sha256').update(name.toLowerCase(), 'utf8').digest();
  return (digest.readBigUInt64BE(0) >> 1n).toString();
}

export function importedAttributeOid(name: string): string {
  return `${KEYHAVEN_ARC}.3.${arcOf(name)}`;
}

export function importedObjectClassOid(name: string): string {
  return `${KEYHAVEN_ARC}.4.${arcOf(name)}`;
}

/** How an imported attribute not in the schema matches: caseIgnore text, or octetString if binary. */
export function importedSemantics(name: string, binary: boolean): AttributeType {
  const oid = importedAttributeOid(name);
  return binary
    ? { name, oid, syntax: SYNTAX.octetString, equality: 'octetString', substrings: false, binary: true }
    : { name, oid, syntax: SYNTAX.directoryString, equality: 'caseIgnore', substrings: true };
}

export function importedAttributeDefinition(name: string, binary: boolean): AttributeTypeDefinition {
  const desc = 'Keyhaven: an attribute of imported entries that no published schema defines';
  return binary
    ? { oid: importedAttributeOid(name), names: [name], desc, equality: 'octetStringMatch', syntax: SYNTAX.octetString }
    : { oid: importedAttributeOid(name), names: [name], desc, equality: 'caseIgnoreMatch', substr: 'caseIgnoreSubstringsMatch', syntax: SYNTAX.directoryString };
}

export function importedObjectClassDefinition(name: string): ObjectClassDefinition {
  return { oid: importedObjectClassOid(name), names: [name], desc: 'Keyhaven: an object class of imported entries that no published schema defines', sup: ['top'], kind: 'AUXILIARY' };
}
