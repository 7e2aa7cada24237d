// Filter evaluation of the LDAP view: every RFC 4515 filter type with three-valued logic,
// attribute-type case rules, undefined attribute types, DN-valued member/memberOf, AD's
// IN_CHAIN and bitwise rules, and hostile filters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import filterModule from '@ldapjs/filter';
import asn1 from '@ldapjs/asn1';
import type { LdapAttribute } from '../../src/ldap/ldap-directory.js';
import { LdapResultError } from '../../src/ldap/ldap-directory.js';
import { parseDn } from '../../src/ldap/view/distinguished-name.js';
import { filterTree, parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { evaluate, requiredEqualities, type EvalContext, type EvalEntry } from '../../src/ldap/view/filter-eval.js';

const attrs = (o: Record<string, (string | Buffer)[]>): Map<string, LdapAttribute> =>
  new Map(Object.entries(o).map(([name, values]) => [name.toLowerCase(), { name, values }]));

const alice: EvalEntry = {
  id: 'u-alice',
  dn: parseDn('uid=alice,ou=people,dc=keyhaven,dc=local'),
  attributes: attrs({
    objectClass: ['top', 'inetOrgPerson', 'posixAccount', 'user'],
    uid: ['alice'],
    cn: ['alice', 'Alice  Liddell'],
    sn: ['Liddell'],
    mail: ['Alice@Example.org'],
    uidNumber: ['10001'],
    homeDirectory: ['/home/alice'],
    userAccountControl: ['514'],
    memberOf: ['CN=Researchers,OU=Groups,DC=keyhaven,DC=local'],
    objectCategory: ['CN=Person,CN=Schema,CN=Configuration,DC=keyhaven,DC=local'],
    whenCreated: ['20240102030405.0Z'],
    objectGUID: [Buffer.from([1, 2, 0xff, 4])],
    employeeNumber: ['E-42'],
    jpegPhoto: [Buffer.from([0xff, 0xd8])],
  }),
};

const chains: EvalContext = {
  inChain: (attribute, value) => {
    const key = parseDn(value)?.key;
    if (attribute === 'memberof' && key === parseDn('cn=all,ou=groups,dc=keyhaven,dc=local')!.key) return new Set(['u-alice']);
    if (attribute === 'memberof' && key === parseDn('cn=other,ou=groups,dc=keyhaven,dc=local')!.key) return new Set(['u-bob']);
    return undefined;
  },
};

const ev = (text: string, entry: EvalEntry = alice) => evaluate(filterTree(parseFilterText(text)), entry, chains);
/** Attribute descriptions the text parser does not take (OIDs, options) arrive this way from the wire. */
const evEq = (attribute: string, value: string) => evaluate(filterTree(new filterModule.EqualityFilter({ attribute, raw: Buffer.from(value) })), alice, chains);
const evPresent = (attribute: string) => evaluate(filterTree(new filterModule.PresenceFilter({ attribute })), alice, chains);

describe('LDAP view: filter evaluation', () => {
  it('evaluates equality with each attribute syntax matching rule', () => {
    assert.equal(ev('(uid=ALICE)'), true, 'caseIgnore');
    assert.equal(ev('(UID=alice)'), true, 'attribute types ignore case');
    assert.equal(ev('(mail=alice@example.ORG)'), true);
    assert.equal(ev('(cn=alice liddell)'), true, 'insignificant spaces');
    assert.equal(ev('(homeDirectory=/HOME/alice)'), false, 'caseExact');
    assert.equal(ev('(uidNumber=010001)'), undefined, 'not an integer in LDAP syntax → Undefined');
    assert.equal(ev('(uidNumber=10001)'), true);
    assert.equal(ev('(uidNumber=abc)'), undefined);
    assert.equal(ev('(objectClass=POSIXACCOUNT)'), true);
    assert.equal(evEq('2.5.4.3', 'alice'), true, 'by OID');
    assert.equal(ev('(commonName=alice)'), true, 'by alias');
  });

  it("matches objectCategory by a class's short name, as Active Directory does, and by DN", () => {
    assert.equal(ev('(&(objectCategory=person)(objectClass=user)(uid=alice))'), true);
    assert.equal(ev('(objectCategory=Person)'), true);
    assert.equal(ev('(objectCategory=user)'), true, "user's defaultObjectCategory is Person");
    assert.equal(ev('(objectCategory=group)'), false);
    assert.equal(ev('(objectCategory=nosuchclass)'), false);
    assert.equal(ev('(!(objectCategory=group))'), true);
    assert.equal(ev('(objectCategory=cn=person, cn=schema,cn=configuration,dc=keyhaven,dc=local)'), true, 'the DN form, distinguishedNameMatch');
    assert.equal(ev('(objectCategory=CN=Group,CN=Schema,CN=Configuration,DC=keyhaven,DC=local)'), false);
  });

  it('matches member/memberOf as DNs, ignoring case and spacing', () => {
    assert.equal(ev('(memberOf=cn=researchers, ou=groups,dc=KEYHAVEN,dc=local)'), true);
    assert.equal(ev('(memberOf=cn=researchers,ou=groups,dc=other)'), false);
    assert.equal(ev('(memberOf=not a dn)'), undefined);
  });

  it('evaluates substrings, ordering, presence and approximate matches', () => {
    assert.equal(ev('(cn=ali*)'), true);
    assert.equal(ev('(cn=*LIDD*)'), true);
    assert.equal(ev('(cn=a*l*l)'), true);
    assert.equal(ev('(cn=*x*)'), false);
    assert.equal(ev('(mail=*@example.org)'), true);
    assert.equal(ev('(uidNumber=1*)'), undefined, 'integers have no substrings rule');
    assert.equal(ev('(uidNumber>=10000)'), true);
    assert.equal(ev('(uidNumber<=10000)'), false);
    assert.equal(ev('(whenCreated>=20240101000000Z)'), true);
    assert.equal(ev('(whenCreated<=20240101000000Z)'), false);
    assert.equal(ev('(sn>=M)'), undefined, 'RFC 4519 sn (SUP name) has no ORDERING rule: Undefined, as on slapd');
    assert.equal(ev('(userAccountControl>=512)'), true, 'Active Directory orders integers by syntax');
    assert.equal(ev('(mail=*)'), true);
    assert.equal(ev('(givenName=*)'), false);
    assert.equal(ev('(cn~=aliceliddell)'), true);
  });

  it('treats undefined attribute types as Undefined, and imported ones as known', () => {
    assert.equal(ev('(sudoRole=x)'), undefined);
    assert.equal(ev('(!(sudoRole=x))'), undefined, 'NOT keeps Undefined');
    assert.equal(ev('(|(sudoRole=x)(uid=alice))'), true);
    assert.equal(ev('(&(sudoRole=x)(uid=alice))'), undefined);
    assert.equal(ev('(&(sudoRole=x)(uid=bob))'), false, 'FALSE wins in AND');
    assert.equal(evPresent('userCertificate;binary'), false, 'absent: presence is FALSE');
    assert.equal(evEq('uid;lang-en', 'alice'), undefined, 'options name nothing here');
    assert.equal(ev('(employeeNumber=e-42)'), true, 'imported: caseIgnore');
    assert.equal(ev('(jpegPhoto=\\ff\\d8)'), true, 'imported binary: octetString');
    assert.equal(ev('(!(uid=bob))'), true);
  });

  it('matches binary values byte for byte (objectGUID as a client sends it escaped)', () => {
    assert.equal(ev('(objectGUID=\\01\\02\\ff\\04)'), true);
    assert.equal(ev('(objectGUID=\\01\\02\\fe\\04)'), false);
  });

  it('serves LDAP_MATCHING_RULE_IN_CHAIN and bitwise AND/OR', () => {
    assert.equal(ev('(memberOf:1.2.840.113556.1.4.1941:=CN=All,OU=Groups,DC=keyhaven,DC=local)'), true);
    assert.equal(ev('(memberOf:1.2.840.113556.1.4.1941:=cn=other,ou=groups,dc=keyhaven,dc=local)'), false);
    assert.equal(ev('(memberOf:1.2.840.113556.1.4.1941:=cn=nothing,dc=x)'), false);
    assert.equal(ev('(userAccountControl:1.2.840.113556.1.4.803:=2)'), true, 'disabled');
    assert.equal(ev('(!(userAccountControl:1.2.840.113556.1.4.803:=2))'), false);
    assert.equal(ev('(userAccountControl:1.2.840.113556.1.4.803:=514)'), true);
    assert.equal(ev('(userAccountControl:1.2.840.113556.1.4.803:=3)'), false);
    assert.equal(ev('(userAccountControl:1.2.840.113556.1.4.804:=3)'), true);
    assert.equal(ev('(uid:1.2.840.113556.1.4.803:=2)'), undefined, 'bitwise needs an integer type');
  });

  it('evaluates other extensible matches, :dn: included', () => {
    assert.equal(ev('(uid:caseExactMatch:=alice)'), true);
    assert.equal(ev('(uid:2.5.13.5:=ALICE)'), false);
    assert.equal(ev('(uid:=ALICE)'), true, 'no rule: the type equality');
    assert.equal(ev('(:caseIgnoreMatch:=liddell)'), true, 'any attribute');
    assert.equal(ev('(ou:dn:=people)'), true, 'the DN’s own RDNs');
    assert.equal(ev('(ou=people)'), false);
    assert.equal(ev('(uid:1.2.3.4:=alice)'), undefined, 'unknown rule');
  });

  it('decodes escapes in filter text exactly as values arrive in BER', () => {
    const t = filterTree(parseFilterText('(cn=a\\2a\\28\\29\\5c\\00)'));
    assert.equal(t.op, 'eq');
    assert.deepEqual((t as { value: Buffer }).value, Buffer.from('a*()\\\u0000'));
    assert.equal(ev('(uid=ali\\2a)'), false, 'an escaped * is a literal');
    // A filter from the wire (parseBer) keeps bytes that are not UTF-8.
    const ber = (new filterModule.EqualityFilter({ attribute: 'objectGUID', raw: Buffer.from([1, 2, 0xff, 4]) }) as unknown as { toBer(): { buffer: Buffer } }).toBer();
    const wire = filterModule.parseBer(new asn1.BerReader(ber.buffer));
    assert.equal(evaluate(filterTree(wire), alice, chains), true);
  });

  it('refuses hostile nesting with unwillingToPerform, not a crash', () => {
    const deep = '(!'.repeat(200) + '(uid=alice)' + ')'.repeat(200);
    assert.throws(() => filterTree(parseFilterText(deep)), (e) => e instanceof LdapResultError && e.resultCode === 53);
    const wide = `(|${'(uid=x)'.repeat(3000)})`;
    assert.throws(() => filterTree(parseFilterText(wide)), (e) => e instanceof LdapResultError && e.resultCode === 53);
    assert.equal(ev(`(|${'(uid=x)'.repeat(500)}(uid=alice))`), true);
  });

  it('finds the equalities a search can look up directly', () => {
    const req = (s: string) => requiredEqualities(filterTree(parseFilterText(s)));
    assert.deepEqual(req('(sAMAccountName=alice)'), [{ attribute: 'samaccountname', values: ['alice'] }]);
    assert.deepEqual(req('(&(objectClass=posixAccount)(UID=bob))'), [{ attribute: 'objectclass', values: ['posixAccount'] }, { attribute: 'uid', values: ['bob'] }]);
    assert.deepEqual(req('(|(uid=a)(uid=b))'), [{ attribute: 'uid', values: ['a', 'b'] }]);
    assert.deepEqual(req('(|(uid=a)(cn=b))'), []);
    assert.deepEqual(req('(!(uid=a))'), []);
  });
});
