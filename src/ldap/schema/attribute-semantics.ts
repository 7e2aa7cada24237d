// What a published attribute type means for filter evaluation and compare: the matching
// rules of its definition (inherited through SUP, RFC 4512 §4.1.2: "cn SUP name" matches as
// name does), reduced to the handful matching-rules.ts implements, whether substrings and
// ordering filters apply, and whether its values are bytes.
//
// Where a type names no EQUALITY rule, itself or through its supertypes, its syntax decides,
// as Active Directory does for all its attributes (AD publishes no matching rules: [MS-ADTS]
// §3.1.1.3.1.3 compares by syntax): OpenLDAP's msuser.schema copies AD's definitions without
// them. For AD's own types the syntax also gives ordering (integers, times: SSSD asks
// `(uSNChanged>=…)`) and substrings (strings: `(sAMAccountName=ali*)`); a standard type gets
// ordering and substrings only where its definition names an ORDERING or SUBSTR rule, so
// `(cn>=m)` is Undefined, as it is on slapd.
import type { AttributeTypeDefinition } from './definitions.js';
import { isActiveDirectoryType, publishedAttributeType } from './published-schema.js';

export type MatchingRule = 'caseIgnore' | 'caseExact' | 'integer' | 'dn' | 'octetString' | 'generalizedTime' | 'objectIdentifier';

export interface AttributeType {
  /** The name as served (the definition's first NAME). */
  name: string;
  oid: string;
  /** Syntax OID (RFC 4517 §3.3), without a length bound. */
  syntax: string;
  equality: MatchingRule;
  /** Ordering (>=, <=) if the type has one. */
  ordering?: MatchingRule;
  /** Whether substrings filters apply. */
  substrings: boolean;
  singleValue?: boolean;
  /** Operational (RFC 4512 §3.4): returned only when asked for by name or `+`. */
  operational?: boolean;
  /** Values are binary (Buffer), never text. */
  binary?: boolean;
  aliases?: string[];
}

export const SYNTAX = {
  directoryString: '1.3.6.1.4.1.1466.115.121.1.15',
  octetString: '1.3.6.1.4.1.1466.115.121.1.40',
} as const;

/** RFC 4517 §4.2 rules (and RFC 4530's, RFC 4523's) by name, as matching-rules.ts implements them. */
const EQUALITY: Record<string, MatchingRule> = {
  caseignorematch: 'caseIgnore', caseignoreia5match: 'caseIgnore', caseignorelistmatch: 'caseIgnore',
  numericstringmatch: 'caseIgnore', telephonenumbermatch: 'caseIgnore', booleanmatch: 'caseIgnore',
  uuidmatch: 'caseIgnore', presentationaddressmatch: 'caseIgnore', protocolinformationmatch: 'caseIgnore',
  caseexactmatch: 'caseExact', caseexactia5match: 'caseExact',
  integermatch: 'integer', integerfirstcomponentmatch: 'integer',
  distinguishednamematch: 'dn', uniquemembermatch: 'dn',
  octetstringmatch: 'octetString', bitstringmatch: 'octetString', certificateexactmatch: 'octetString', certificatelistexactmatch: 'octetString',
  generalizedtimematch: 'generalizedTime',
  objectidentifiermatch: 'objectIdentifier', objectidentifierfirstcomponentmatch: 'objectIdentifier',
};
const ORDERING: Record<string, MatchingRule> = {
  caseignoreorderingmatch: 'caseIgnore', caseexactorderingmatch: 'caseExact', numericstringorderingmatch: 'caseIgnore',
  integerorderingmatch: 'integer', generalizedtimeorderingmatch: 'generalizedTime', uuidorderingmatch: 'caseIgnore',
  octetstringorderingmatch: 'octetString',
};

const S = '1.3.6.1.4.1.1466.115.121.1.';
/** Syntaxes whose values are bytes (RFC 4517 §3.3: Octet String, JPEG, Fax, certificates, Audio, Binary). */
const BINARY_SYNTAXES = new Set(['40', '28', '23', '8', '9', '10', '4', '5', '49'].map((n) => S + n));
/** Equality by syntax where a type names none (Active Directory's way). */
const BY_SYNTAX: Record<string, MatchingRule> = {
  [`${S}12`]: 'dn', [`${S}27`]: 'integer', [`${S}24`]: 'generalizedTime', [`${S}53`]: 'generalizedTime', [`${S}38`]: 'objectIdentifier',
};
const STRING_SYNTAXES = new Set(['15', '26', '44', '11', '36', '50'].map((n) => S + n));

/** The definition's own value of a field, else its nearest supertype's. */
function inherited<K extends 'equality' | 'ordering' | 'substr' | 'syntax'>(t: AttributeTypeDefinition, key: K): AttributeTypeDefinition[K] {
  for (let cur: AttributeTypeDefinition | undefined = t, depth = 0; cur && depth < 8; cur = cur.sup ? publishedAttributeType(cur.sup) : undefined, depth++) {
    if (cur[key] !== undefined) return cur[key];
  }
  return undefined;
}

export function semanticsOf(t: AttributeTypeDefinition): AttributeType {
  const syntax = (inherited(t, 'syntax') ?? SYNTAX.directoryString).replace(/\{\d+\}$/, '');
  const binary = BINARY_SYNTAXES.has(syntax);
  const bySyntax: MatchingRule = BY_SYNTAX[syntax] ?? (binary ? 'octetString' : 'caseIgnore');
  const eqName = inherited(t, 'equality');
  const equality = (eqName && EQUALITY[eqName.toLowerCase()]) || bySyntax;
  const ad = isActiveDirectoryType(t);
  const ordName = inherited(t, 'ordering');
  const ordering = ordName ? ORDERING[ordName.toLowerCase()]
    : ad && (bySyntax === 'integer' || bySyntax === 'generalizedTime') ? bySyntax : undefined;
  const substrName = inherited(t, 'substr');
  const substrings = substrName !== undefined || (ad && eqName === undefined && STRING_SYNTAXES.has(syntax));
  const out: AttributeType = { name: t.names[0] ?? t.oid, oid: t.oid, syntax, equality, substrings };
  if (ordering) out.ordering = ordering;
  if (t.singleValue) out.singleValue = true;
  if (t.usage !== undefined && t.usage !== 'userApplications') out.operational = true;
  if (binary) out.binary = true;
  if (t.names.length > 1) out.aliases = t.names.slice(1);
  return out;
}
