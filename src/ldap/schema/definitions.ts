// The four kinds of subschema definition Keyhaven publishes at cn=Subschema (RFC 4512 §4.1),
// as data, and their RFC 4512 §4.1 text. The data files beside this one are generated from
// slapd's own rendering of the schemas (scripts/generate-ldap-schema.ts), and the generator
// checks that describe*() below reproduces slapd's text for every definition, byte for byte:
// keyword order, quoting and `( a $ b )` lists are slapd's, which every LDAP client parses.

export type AttributeUsage = 'userApplications' | 'directoryOperation' | 'distributedOperation' | 'dSAOperation';

/** An attribute type (RFC 4512 §4.1.2). */
export interface AttributeTypeDefinition {
  oid: string;
  names: readonly string[];
  desc?: string;
  obsolete?: true;
  /** The supertype, by name or OID: its matching rules and syntax apply where this leaves them out. */
  sup?: string;
  equality?: string;
  ordering?: string;
  substr?: string;
  /** The syntax OID, with its `{length}` bound where the schema gives one. */
  syntax?: string;
  singleValue?: true;
  collective?: true;
  noUserModification?: true;
  usage?: AttributeUsage;
}

/** An object class (RFC 4512 §4.1.1). */
export interface ObjectClassDefinition {
  oid: string;
  names: readonly string[];
  desc?: string;
  obsolete?: true;
  sup?: readonly string[];
  kind: 'ABSTRACT' | 'STRUCTURAL' | 'AUXILIARY';
  must?: readonly string[];
  may?: readonly string[];
}

/** An LDAP syntax (RFC 4512 §4.1.5); extensions such as X-NOT-HUMAN-READABLE in order. */
export interface SyntaxDefinition {
  oid: string;
  desc?: string;
  extensions?: readonly (readonly [string, string])[];
}

/** A matching rule (RFC 4512 §4.1.3). */
export interface MatchingRuleDefinition {
  oid: string;
  names: readonly string[];
  desc?: string;
  syntax: string;
}

/** One schema file's worth of definitions. */
export interface SchemaModule {
  /** Where the definitions come from (the file slapd loaded, or the RFC). */
  source: string;
  attributeTypes: readonly AttributeTypeDefinition[];
  objectClasses: readonly ObjectClassDefinition[];
}

/** RFC 4512 §4.1 qdescrs: `'a'` or `( 'a' 'b' )`. */
function qdescrs(names: readonly string[]): string {
  return names.length === 1 ? `'${names[0]}'` : `( ${names.map((n) => `'${n}'`).join(' ')} )`;
}

/** RFC 4512 §4.1 oids: `a` or `( a $ b )`. */
function oids(list: readonly string[]): string {
  return list.length === 1 ? list[0]! : `( ${list.join(' $ ')} )`;
}

/** RFC 4512 §4.1 qdstring, with `\` and `'` escaped as `\5C` and `\27`. */
function qdstring(text: string): string {
  return `'${text.replace(/\\/g, '\\5C').replace(/'/g, '\\27')}'`;
}

export function describeAttributeType(t: AttributeTypeDefinition): string {
  const parts = ['(', t.oid];
  if (t.names.length > 0) parts.push('NAME', qdescrs(t.names));
  if (t.desc !== undefined) parts.push('DESC', qdstring(t.desc));
  if (t.obsolete) parts.push('OBSOLETE');
  if (t.sup) parts.push('SUP', t.sup);
  if (t.equality) parts.push('EQUALITY', t.equality);
  if (t.ordering) parts.push('ORDERING', t.ordering);
  if (t.substr) parts.push('SUBSTR', t.substr);
  if (t.syntax) parts.push('SYNTAX', t.syntax);
  if (t.singleValue) parts.push('SINGLE-VALUE');
  if (t.collective) parts.push('COLLECTIVE');
  if (t.noUserModification) parts.push('NO-USER-MODIFICATION');
  if (t.usage && t.usage !== 'userApplications') parts.push('USAGE', t.usage);
  parts.push(')');
  return parts.join(' ');
}

export function describeObjectClass(c: ObjectClassDefinition): string {
  const parts = ['(', c.oid];
  if (c.names.length > 0) parts.push('NAME', qdescrs(c.names));
  if (c.desc !== undefined) parts.push('DESC', qdstring(c.desc));
  if (c.obsolete) parts.push('OBSOLETE');
  if (c.sup && c.sup.length > 0) parts.push('SUP', oids(c.sup));
  parts.push(c.kind);
  if (c.must && c.must.length > 0) parts.push('MUST', oids(c.must));
  if (c.may && c.may.length > 0) parts.push('MAY', oids(c.may));
  parts.push(')');
  return parts.join(' ');
}

export function describeSyntax(s: SyntaxDefinition): string {
  const parts = ['(', s.oid];
  if (s.desc !== undefined) parts.push('DESC', qdstring(s.desc));
  for (const [key, value] of s.extensions ?? []) parts.push(key, qdstring(value));
  parts.push(')');
  return parts.join(' ');
}

export function describeMatchingRule(r: MatchingRuleDefinition): string {
  const parts = ['(', r.oid];
  if (r.names.length > 0) parts.push('NAME', qdescrs(r.names));
  if (r.desc !== undefined) parts.push('DESC', qdstring(r.desc));
  parts.push('SYNTAX', r.syntax, ')');
  return parts.join(' ');
}
