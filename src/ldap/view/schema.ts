// The attribute types the view serves, each with its syntax and matching rules (RFC 4517,
// RFC 4519, RFC 2307bis, inetOrgPerson (RFC 2798), and Active Directory's own), which is what
// filter evaluation and compare use. An attribute type this table does not define and the
// entry does not carry is undefined: a filter item on it is Undefined (RFC 4511 §4.5.1.7),
// never an error — SSSD asks for sudoRole, krbPrincipalName, shadow*, nsAccountLock… on every
// lookup. Attributes imported from an LDIF (users.extra / groups.extra) are known on the
// entries that carry them and match caseIgnore, or octetString when their values are binary.

export type MatchingRule = 'caseIgnore' | 'caseExact' | 'integer' | 'dn' | 'octetString' | 'generalizedTime' | 'objectIdentifier';

export interface AttributeType {
  /** The name as served. */
  name: string;
  oid: string;
  /** Syntax OID (RFC 4517 §3.3). */
  syntax: string;
  equality: MatchingRule;
  /** Ordering (>=, <=) if the syntax has one. */
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

const SYNTAX = {
  directoryString: '1.3.6.1.4.1.1466.115.121.1.15',
  ia5: '1.3.6.1.4.1.1466.115.121.1.26',
  integer: '1.3.6.1.4.1.1466.115.121.1.27',
  dn: '1.3.6.1.4.1.1466.115.121.1.12',
  octetString: '1.3.6.1.4.1.1466.115.121.1.40',
  generalizedTime: '1.3.6.1.4.1.1466.115.121.1.24',
  oid: '1.3.6.1.4.1.1466.115.121.1.38',
  uuid: '1.3.6.1.1.16.1',
} as const;

const text = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.directoryString, equality: 'caseIgnore', ordering: 'caseIgnore', substrings: true, ...extra });
const ia5 = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.ia5, equality: 'caseIgnore', substrings: true, ...extra });
const exact = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.ia5, equality: 'caseExact', substrings: true, ...extra });
const int = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.integer, equality: 'integer', ordering: 'integer', substrings: false, singleValue: true, ...extra });
const dn = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.dn, equality: 'dn', substrings: false, ...extra });
const time = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.generalizedTime, equality: 'generalizedTime', ordering: 'generalizedTime', substrings: false, singleValue: true, ...extra });
const octets = (name: string, oid: string, extra: Partial<AttributeType> = {}): AttributeType =>
  ({ name, oid, syntax: SYNTAX.octetString, equality: 'octetString', substrings: false, singleValue: true, binary: true, ...extra });

export const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  { name: 'objectClass', oid: '2.5.4.0', syntax: SYNTAX.oid, equality: 'objectIdentifier', substrings: false },
  text('cn', '2.5.4.3', { aliases: ['commonName'] }),
  text('sn', '2.5.4.4', { aliases: ['surname'] }),
  text('givenName', '2.5.4.42', { aliases: ['gn'] }),
  text('displayName', '2.16.840.1.113730.3.1.241', { singleValue: true }),
  text('description', '2.5.4.13'),
  text('ou', '2.5.4.11', { aliases: ['organizationalUnitName'] }),
  text('o', '2.5.4.10', { aliases: ['organizationName'] }),
  ia5('dc', '0.9.2342.19200300.100.1.25', { aliases: ['domainComponent'], singleValue: true }),
  text('uid', '0.9.2342.19200300.100.1.1', { aliases: ['userid'] }),
  ia5('mail', '0.9.2342.19200300.100.1.3', { aliases: ['rfc822Mailbox'] }),
  int('uidNumber', '1.3.6.1.1.1.1.0'),
  int('gidNumber', '1.3.6.1.1.1.1.1'),
  ia5('gecos', '1.3.6.1.1.1.1.2', { singleValue: true }),
  exact('homeDirectory', '1.3.6.1.1.1.1.3', { singleValue: true }),
  exact('loginShell', '1.3.6.1.1.1.1.4', { singleValue: true }),
  exact('memberUid', '1.3.6.1.1.1.1.12'),
  { name: 'sshPublicKey', oid: '1.3.6.1.4.1.24552.500.1.1.1.13', syntax: SYNTAX.octetString, equality: 'caseExact', substrings: true },
  dn('member', '2.5.4.31'),
  dn('memberOf', '1.2.840.113556.1.2.102'),
  text('sAMAccountName', '1.2.840.113556.1.4.221', { singleValue: true }),
  text('userPrincipalName', '1.2.840.113556.1.4.656', { singleValue: true }),
  int('userAccountControl', '1.2.840.113556.1.4.8'),
  int('sAMAccountType', '1.2.840.113556.1.4.302'),
  int('groupType', '1.2.840.113556.1.4.750'),
  octets('objectGUID', '1.2.840.113556.1.4.2'),
  octets('objectSid', '1.2.840.113556.1.4.146'),
  time('whenCreated', '1.2.840.113556.1.2.2'),
  time('whenChanged', '1.2.840.113556.1.2.3'),
  { name: 'entryUUID', oid: '1.3.6.1.1.16.4', syntax: SYNTAX.uuid, equality: 'caseIgnore', ordering: 'caseIgnore', substrings: false, singleValue: true, operational: true },
  time('createTimestamp', '2.5.18.1', { operational: true }),
  time('modifyTimestamp', '2.5.18.2', { operational: true }),
  dn('entryDN', '1.3.6.1.1.20', { operational: true, singleValue: true }),
  dn('subschemaSubentry', '2.5.18.10', { operational: true, singleValue: true }),
  text('hasSubordinates', '2.5.18.9', { operational: true, singleValue: true, substrings: false }),
  // Root DSE (RFC 4512 §5.1).
  dn('namingContexts', '1.3.6.1.4.1.1466.101.120.5', { operational: true }),
  // Active Directory's rootDSE names its domain partition here; AD-minded tools read it.
  dn('defaultNamingContext', 'defaultnamingcontext-oid', { operational: true, singleValue: true }),
  { name: 'supportedControl', oid: '1.3.6.1.4.1.1466.101.120.13', syntax: SYNTAX.oid, equality: 'objectIdentifier', substrings: false, operational: true },
  { name: 'supportedExtension', oid: '1.3.6.1.4.1.1466.101.120.7', syntax: SYNTAX.oid, equality: 'objectIdentifier', substrings: false, operational: true },
  { name: 'supportedFeatures', oid: '1.3.6.1.4.1.4203.1.3.5', syntax: SYNTAX.oid, equality: 'objectIdentifier', substrings: false, operational: true },
  int('supportedLDAPVersion', '1.3.6.1.4.1.1466.101.120.15', { operational: true, singleValue: false }),
  text('supportedSASLMechanisms', '1.3.6.1.4.1.1466.101.120.14', { operational: true }),
  text('vendorName', '1.3.6.1.1.4', { operational: true, singleValue: true }),
  text('vendorVersion', '1.3.6.1.1.5', { operational: true, singleValue: true }),
  // Subschema (RFC 4512 §4.2).
  text('attributeTypes', '2.5.21.5', { operational: true, equality: 'objectIdentifier', substrings: false }),
  text('objectClasses', '2.5.21.6', { operational: true, equality: 'objectIdentifier', substrings: false }),
  text('ldapSyntaxes', '1.3.6.1.4.1.1466.101.120.16', { operational: true, equality: 'objectIdentifier', substrings: false }),
  text('matchingRules', '2.5.21.4', { operational: true, equality: 'objectIdentifier', substrings: false }),
];

const BY_NAME = new Map<string, AttributeType>();
for (const t of ATTRIBUTE_TYPES) {
  for (const n of [t.name, t.oid, ...(t.aliases ?? [])]) BY_NAME.set(n.toLowerCase(), t);
}

/** An attribute description's type (options such as `;binary` make it name nothing here). */
export function attributeType(description: string): AttributeType | undefined {
  if (typeof description !== 'string' || description.includes(';')) return undefined;
  return BY_NAME.get(description.toLowerCase());
}

/** Whether the description names an operational attribute (returned only on request: `+` or by name). */
export function isOperational(description: string): boolean {
  return attributeType(description)?.operational === true;
}

/** The type an imported attribute (not in the table) gets: caseIgnore text, or octetString if binary. */
export function importedType(name: string, binary: boolean): AttributeType {
  return binary
    ? { name, oid: `${name.toLowerCase()}-oid`, syntax: SYNTAX.octetString, equality: 'octetString', substrings: false, binary: true }
    : { name, oid: `${name.toLowerCase()}-oid`, syntax: SYNTAX.directoryString, equality: 'caseIgnore', ordering: 'caseIgnore', substrings: true };
}

export const OBJECT_CLASSES: readonly { name: string; oid: string; sup: string; kind: 'STRUCTURAL' | 'AUXILIARY' | 'ABSTRACT'; must: string[]; may: string[] }[] = [
  { name: 'top', oid: '2.5.6.0', sup: '', kind: 'ABSTRACT', must: ['objectClass'], may: [] },
  { name: 'person', oid: '2.5.6.6', sup: 'top', kind: 'STRUCTURAL', must: ['sn', 'cn'], may: ['description'] },
  { name: 'organizationalPerson', oid: '2.5.6.7', sup: 'person', kind: 'STRUCTURAL', must: [], may: ['ou'] },
  { name: 'inetOrgPerson', oid: '2.16.840.1.113730.3.2.2', sup: 'organizationalPerson', kind: 'STRUCTURAL', must: [], may: ['displayName', 'givenName', 'mail', 'uid'] },
  { name: 'posixAccount', oid: '1.3.6.1.1.1.2.0', sup: 'top', kind: 'AUXILIARY', must: ['cn', 'uid', 'uidNumber', 'gidNumber', 'homeDirectory'], may: ['loginShell', 'gecos', 'description'] },
  { name: 'ldapPublicKey', oid: '1.3.6.1.4.1.24552.500.1.1.2.0', sup: 'top', kind: 'AUXILIARY', must: [], may: ['sshPublicKey', 'uid'] },
  { name: 'user', oid: '1.2.840.113556.1.5.9', sup: 'organizationalPerson', kind: 'STRUCTURAL', must: [], may: ['sAMAccountName', 'userPrincipalName', 'memberOf', 'objectGUID', 'objectSid', 'userAccountControl', 'sAMAccountType', 'whenCreated', 'whenChanged'] },
  { name: 'groupOfNames', oid: '2.5.6.9', sup: 'top', kind: 'STRUCTURAL', must: ['cn'], may: ['member', 'description'] },
  { name: 'posixGroup', oid: '1.3.6.1.1.1.2.2', sup: 'top', kind: 'AUXILIARY', must: ['cn', 'gidNumber'], may: ['memberUid', 'description'] },
  { name: 'group', oid: '1.2.840.113556.1.5.8', sup: 'top', kind: 'STRUCTURAL', must: [], may: ['sAMAccountName', 'member', 'memberOf', 'groupType', 'objectGUID', 'objectSid', 'sAMAccountType', 'whenCreated', 'whenChanged'] },
  { name: 'organizationalUnit', oid: '2.5.6.5', sup: 'top', kind: 'STRUCTURAL', must: ['ou'], may: ['description'] },
  { name: 'domain', oid: '0.9.2342.19200300.100.4.13', sup: 'top', kind: 'STRUCTURAL', must: ['dc'], may: ['description'] },
  { name: 'dcObject', oid: '1.3.6.1.4.1.1466.344', sup: 'top', kind: 'AUXILIARY', must: ['dc'], may: [] },
  { name: 'subschema', oid: '2.5.20.1', sup: 'top', kind: 'AUXILIARY', must: [], may: ['attributeTypes', 'objectClasses', 'ldapSyntaxes', 'matchingRules'] },
];

const RULE_OID: Record<MatchingRule, string> = {
  caseIgnore: '2.5.13.2', caseExact: '2.5.13.5', integer: '2.5.13.14', dn: '2.5.13.1',
  octetString: '2.5.13.17', generalizedTime: '2.5.13.27', objectIdentifier: '2.5.13.0',
};
const ORDERING_OID: Partial<Record<MatchingRule, string>> = { caseIgnore: '2.5.13.3', integer: '2.5.13.15', generalizedTime: '2.5.13.28' };

/** RFC 4512 §4.1.2 descriptions of the attribute types, for the subschema entry. */
export function attributeTypeDescriptions(): string[] {
  return ATTRIBUTE_TYPES.map((t) => {
    const names = [t.name, ...(t.aliases ?? [])];
    const name = names.length === 1 ? `'${names[0]}'` : `( ${names.map((n) => `'${n}'`).join(' ')} )`;
    let s = `( ${t.oid} NAME ${name} EQUALITY ${RULE_OID[t.equality]}`;
    if (t.ordering && ORDERING_OID[t.ordering]) s += ` ORDERING ${ORDERING_OID[t.ordering]}`;
    if (t.substrings) s += ' SUBSTR 2.5.13.4';
    s += ` SYNTAX ${t.syntax}`;
    if (t.singleValue) s += ' SINGLE-VALUE';
    if (t.operational) s += ' NO-USER-MODIFICATION USAGE directoryOperation';
    return `${s} )`;
  });
}

export function objectClassDescriptions(): string[] {
  const list = (xs: string[]) => (xs.length === 1 ? xs[0]! : `( ${xs.join(' $ ')} )`);
  return OBJECT_CLASSES.map((c) => {
    let s = `( ${c.oid} NAME '${c.name}'`;
    if (c.sup) s += ` SUP ${c.sup}`;
    s += ` ${c.kind}`;
    if (c.must.length > 0) s += ` MUST ${list(c.must)}`;
    if (c.may.length > 0) s += ` MAY ${list(c.may)}`;
    return `${s} )`;
  });
}

