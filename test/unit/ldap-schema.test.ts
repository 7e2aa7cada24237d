// The published subschema (src/ldap/schema/) is whole and consistent: every name a definition
// refers to is defined, every syntax and matching rule an attribute type uses is listed, no
// NAME or OID is defined twice, and the texts clients parse are slapd's (RFC 4512 §4.1).
// What imported entries carry gets stable definitions under Keyhaven's arc.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { semanticsOf } from '../../src/ldap/schema/attribute-semantics.js';
import { describeAttributeType, describeObjectClass } from '../../src/ldap/schema/definitions.js';
import { importedAttributeOid, KEYHAVEN_ARC } from '../../src/ldap/schema/imported-definitions.js';
import { PUBLISHED_ATTRIBUTE_TYPES, PUBLISHED_OBJECT_CLASSES, publishedAttributeType, publishedObjectClass } from '../../src/ldap/schema/published-schema.js';
import { subschemaValues } from '../../src/ldap/schema/subschema-entry.js';
import { LDAP_SYNTAXES, MATCHING_RULES } from '../../src/ldap/schema/syntaxes.js';
import { attributeType, importedType, isOperational } from '../../src/ldap/view/schema.js';
import { gecosOf } from '../../src/ldap/view/user-entry.js';

const at = (name: string) => describeAttributeType(publishedAttributeType(name)!);
const oc = (name: string) => describeObjectClass(publishedObjectClass(name)!);
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

describe('LDAP subschema: the published definitions', () => {
  it('defines each NAME and OID once', () => {
    const seen = new Map<string, string>();
    for (const d of [...PUBLISHED_ATTRIBUTE_TYPES, ...PUBLISHED_OBJECT_CLASSES]) {
      assert.match(d.oid, OID, `${d.names[0]}: ${d.oid}`);
      for (const key of [d.oid, ...d.names.map((n) => n.toLowerCase())]) {
        assert.equal(seen.get(key), undefined, `${key} is defined twice`);
        seen.set(key, d.oid);
      }
    }
  });

  it('defines every supertype, MUST and MAY that a definition names', () => {
    for (const t of PUBLISHED_ATTRIBUTE_TYPES) if (t.sup) assert.ok(publishedAttributeType(t.sup), `${t.names[0]} SUP ${t.sup}`);
    for (const c of PUBLISHED_OBJECT_CLASSES) {
      for (const s of c.sup ?? []) assert.ok(publishedObjectClass(s), `${c.names[0]} SUP ${s}`);
      for (const a of [...(c.must ?? []), ...(c.may ?? [])]) assert.ok(publishedAttributeType(a), `${c.names[0]} names ${a}`);
    }
  });

  it('lists every syntax and matching rule an attribute type uses (RFC 4512 §4.2)', () => {
    const syntaxes = new Set(LDAP_SYNTAXES.map((s) => s.oid));
    const rules = new Set(MATCHING_RULES.flatMap((r) => [r.oid, ...r.names.map((n) => n.toLowerCase())]));
    for (const t of PUBLISHED_ATTRIBUTE_TYPES) {
      if (t.syntax) assert.ok(syntaxes.has(t.syntax.replace(/\{\d+\}$/, '')), `${t.names[0]} SYNTAX ${t.syntax}`);
      else assert.ok(t.sup, `${t.names[0]} has neither SYNTAX nor SUP`);
      for (const r of [t.equality, t.ordering, t.substr]) if (r) assert.ok(rules.has(r.toLowerCase()), `${t.names[0]} uses ${r}`);
    }
  });

  it('publishes the schemas clients expect, with well over 250 attribute types', () => {
    assert.ok(PUBLISHED_ATTRIBUTE_TYPES.length >= 250, String(PUBLISHED_ATTRIBUTE_TYPES.length));
    for (const name of ['member', 'uniqueMember', 'memberUid', 'employeeType', 'employeeNumber', 'departmentNumber', 'title', 'jpegPhoto', 'manager',
      'sshPublicKey', 'shadowExpire', 'nisNetgroupTriple', 'sudoUser', 'sudoCommand', 'sAMAccountName', 'userPrincipalName', 'memberOf', 'objectGUID',
      'objectSid', 'userAccountControl', 'pwdLastSet', 'accountExpires', 'primaryGroupID', 'proxyAddresses', 'entryUUID', 'createTimestamp', 'displayName']) {
      assert.ok(publishedAttributeType(name), name);
    }
    for (const name of ['inetOrgPerson', 'posixAccount', 'shadowAccount', 'posixGroup', 'nisNetgroup', 'groupOfUniqueNames', 'groupOfNames',
      'ldapPublicKey', 'sudoRole', 'user', 'group', 'container', 'organization', 'organizationalUnit', 'domain', 'dcObject', 'account', 'subschema']) {
      assert.ok(publishedObjectClass(name), name);
    }
  });

  it('gives the texts exactly as slapd renders OpenLDAP\'s schema files', () => {
    assert.equal(at('uidNumber'), "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' DESC 'RFC2307: An integer uniquely identifying a user in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )");
    assert.equal(at('cn'), "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the entity is known by' SUP name )");
    assert.equal(at('memberUid'), "( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )");
    assert.equal(at('uniqueMember'), "( 2.5.4.50 NAME 'uniqueMember' DESC 'RFC2256: unique member of a group' EQUALITY uniqueMemberMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.34 )");
    assert.equal(at('sAMAccountName'), "( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )");
    assert.equal(at('sshPublicKey'), "( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey' DESC 'MANDATORY: OpenSSH Public key' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )");
    assert.equal(at('entryUUID'), "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )");
    assert.match(oc('sudoRole'), /^\( 1\.3\.6\.1\.4\.1\.15953\.9\.2\.1 NAME 'sudoRole' DESC 'Sudoer Entries' SUP top STRUCTURAL MUST cn MAY \( sudoUser \$ /);
    // RFC 2307bis: posixGroup is auxiliary, beside groupOfNames.
    assert.match(oc('posixGroup'), / AUXILIARY MUST \( cn \$ gidNumber \) /);
  });

  it('matches as the definitions say: inherited rules, case-exact IA5, AD types by syntax', () => {
    assert.deepEqual([attributeType('cn')?.equality, attributeType('cn')?.substrings, attributeType('cn')?.ordering], ['caseIgnore', true, undefined]);
    assert.equal(attributeType('commonName')?.name, 'cn');
    assert.equal(attributeType('2.5.4.3')?.name, 'cn');
    assert.deepEqual([attributeType('memberUid')?.equality, attributeType('homeDirectory')?.equality], ['caseExact', 'caseExact']);
    assert.deepEqual([attributeType('uidNumber')?.ordering, attributeType('uidNumber')?.singleValue], ['integer', true]);
    assert.deepEqual([attributeType('memberOf')?.equality, attributeType('objectGUID')?.binary, attributeType('whenChanged')?.ordering], ['dn', true, 'generalizedTime']);
    assert.deepEqual([attributeType('sAMAccountName')?.equality, attributeType('sAMAccountName')?.substrings], ['caseIgnore', true]);
    assert.equal(attributeType('jpegPhoto')?.binary, true);
    assert.equal(isOperational('createTimestamp'), true);
    assert.equal(isOperational('namingContexts'), true);
    assert.equal(isOperational('defaultNamingContext'), true);
    assert.equal(isOperational('memberOf'), false, 'AD returns memberOf to *');
    assert.equal(attributeType('cn;lang-en'), undefined);
    for (const t of PUBLISHED_ATTRIBUTE_TYPES) assert.doesNotThrow(() => semanticsOf(t));
  });
});

describe('LDAP subschema: names of imported entries', () => {
  it('defines each imported name no schema has, under Keyhaven\'s arc, the same on every call', () => {
    const oid = importedAttributeOid('employeeBadge');
    assert.match(oid, new RegExp(`^${KEYHAVEN_ARC.replace(/\./g, '\\.')}\\.3\\.[1-9][0-9]*$`));
    assert.equal(importedAttributeOid('EMPLOYEEBADGE'), oid, 'names ignore case');
    assert.notEqual(importedAttributeOid('employeeBadges'), oid);
    assert.ok(BigInt(oid.split('.').at(-1)!) < 2n ** 63n);
    const values = subschemaValues({
      attributes: new Map([['employeeBadge', { binary: false }], ['badgePhoto', { binary: true }], ['title', { binary: false }], ['bad name', { binary: false }]]),
      objectClasses: new Set(['acmeBadgeHolder', 'inetOrgPerson']),
    });
    const mine = values.attributeTypes.filter((v) => v.includes(`${KEYHAVEN_ARC}.3.`));
    assert.deepEqual(mine, [
      `( ${oid} NAME 'employeeBadge' DESC 'Keyhaven: an attribute of imported entries that no published schema defines' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )`,
      `( ${importedAttributeOid('badgePhoto')} NAME 'badgePhoto' DESC 'Keyhaven: an attribute of imported entries that no published schema defines' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )`,
    ], 'published names (title) and names that are not descriptors are left out');
    assert.equal(values.objectClasses.filter((v) => v.includes(`${KEYHAVEN_ARC}.4.`)).length, 1);
    assert.ok(values.objectClasses.some((v) => v.includes("NAME 'acmeBadgeHolder'") && v.includes('SUP top AUXILIARY')));
    assert.equal(values.attributeTypes.length, PUBLISHED_ATTRIBUTE_TYPES.length + 2);
    assert.equal(importedType('employeeBadge', false).oid, oid, 'filters and the subschema agree on the OID');
  });
});

describe('LDAP subschema: served values follow the declared syntax', () => {
  it('serves gecos (IA5 String) in ASCII: transliterated, or not at all', () => {
    assert.equal(gecosOf('Zoë Ångström'), 'Zoe Angstrom');
    assert.equal(gecosOf('Jürgen Straße'), 'Jurgen Strasse');
    assert.equal(gecosOf('Ada Lovelace'), 'Ada Lovelace');
    assert.equal(gecosOf('李小龍'), undefined);
    assert.equal(gecosOf(''), undefined);
  });
});
