// DN templates (OpenLDAP and Azure AD DS layouts), DN normalisation, and entry rendering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraphUser } from '../../src/directory/graph-objects.js';
import { StartupError } from '../../src/errors.js';
import { objectGuid, objectSid, sidString } from '../../src/ldap/view/ad-identifiers.js';
import { DitLayout } from '../../src/ldap/view/dit-layout.js';
import { parseDn } from '../../src/ldap/view/distinguished-name.js';
import { userEntry } from '../../src/ldap/view/user-entry.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';

const AD_DS = 'CN={username},OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com';

describe('LDAP view: DIT layout', () => {
  it('derives the base DN from the directory domain and uses OpenLDAP-style defaults', () => {
    const layout = new DitLayout(ldapViewConfig({ directoryDomain: 'keyhaven.local' }));
    assert.equal(layout.baseText, 'dc=keyhaven,dc=local');
    assert.equal(layout.userDn('alice'), 'uid=alice,ou=people,dc=keyhaven,dc=local');
    assert.equal(layout.groupDn('staff'), 'cn=staff,ou=groups,dc=keyhaven,dc=local');
    assert.equal(layout.serviceDn('0f0e'), 'cn=0f0e,ou=services,dc=keyhaven,dc=local');
    assert.deepEqual(layout.resolve(parseDn('UID=Alice, OU=People,DC=KeyHaven,DC=local')!), { kind: 'userOrGroup', name: 'Alice', asUser: true, asGroup: false });
    assert.deepEqual(layout.resolve(parseDn('ou=groups,dc=keyhaven,dc=local')!), { kind: 'container', which: 'groups' });
    assert.equal(layout.resolve(parseDn('cn=alice,ou=people,dc=keyhaven,dc=local')!), undefined, 'wrong RDN type');
    assert.equal(layout.matchedDn(parseDn('uid=x,ou=people,dc=keyhaven,dc=local')!), 'ou=people,dc=keyhaven,dc=local');
  });

  it('serves the Azure AD DS layout an admin picks, keeping the admin’s spelling', () => {
    const layout = new DitLayout(ldapViewConfig({
      directoryDomain: 'keyhaven.local', ldapBaseDn: 'DC=mytestdomain,DC=onmicrosoft,DC=com',
      ldapUserDnTemplate: AD_DS, ldapGroupDnTemplate: 'CN={name},OU=AADDC Users,{base}',
    }));
    assert.equal(layout.userDn('alice'), 'CN=alice,OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com');
    assert.equal(layout.groupDn('staff'), 'CN=staff,OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com');
    // JupyterHub formats bind_dn_template with the typed username: any case and spacing resolves.
    assert.deepEqual(layout.resolve(parseDn('cn=ALICE, ou=aaddc users, dc=MyTestDomain,dc=onmicrosoft,dc=com')!), { kind: 'userOrGroup', name: 'ALICE', asUser: true, asGroup: true });
    assert.equal(layout.containers().length, 2, 'one shared users/groups container, and services');
  });

  it('refuses templates without the placeholder or outside the base', () => {
    const bad = (t: string) => () => new DitLayout(ldapViewConfig({ directoryDomain: 'keyhaven.local', ldapUserDnTemplate: t }));
    assert.throws(bad('uid=alice,ou=people,dc=keyhaven,dc=local'), StartupError);
    assert.throws(bad('uid={username},ou=people,dc=elsewhere'), StartupError);
    assert.throws(() => new DitLayout(ldapViewConfig({ directoryDomain: 'x.y', ldapBaseDn: 'not a dn' })), StartupError);
  });

  it('normalises DNs for matching: case, spacing, escapes, multi-valued RDNs', () => {
    assert.equal(parseDn('CN=Alice  Smith , OU=X')!.key, parseDn('cn=alice smith,ou=x')!.key);
    assert.equal(parseDn('cn=a\\,b,dc=x')!.key, parseDn('CN=A\\2cB,DC=X')!.key);
    assert.equal(parseDn('cn=a+uid=b,dc=x')!.key, parseDn('uid=B+cn=A,dc=x')!.key);
    assert.notEqual(parseDn('cn=a\\,dc=x')!.rdnKeys.length, parseDn('cn=a,dc=x')!.rdnKeys.length + 1);
    assert.equal(parseDn('garbage'), undefined);
  });
});

describe('LDAP view: entries', () => {
  const user: GraphUser = {
    '@odata.etag': 'W/"1"', id: '01234567-89ab-cdef-0123-456789abcdef', userPrincipalName: 'alice@keyhaven.local',
    displayName: 'Alice Liddell', givenName: 'Alice', surname: null, mail: 'alice@example.org', accountEnabled: false,
    mailNickname: 'alice', onPremisesSamAccountName: 'alice', createdDateTime: '2024-01-02T03:04:05.000Z', lastPasswordChangeDateTime: null,
    keyhavenPosix: { uidNumber: 10001, gidNumber: 10001, homeDirectory: '/home/alice', loginShell: '/bin/bash', sshPublicKeys: ['ssh-ed25519 AAAA alice'] },
    keyhavenExtraAttributes: { employeeNumber: ['42'], jpegPhoto: [{ base64: '/9g=' }] },
  };
  const entry = userEntry(user, { dn: 'uid=alice,ou=people,dc=keyhaven,dc=local', domainSid: [1, 2, 3], baseDn: 'dc=keyhaven,dc=local', memberOf: ['cn=staff,ou=groups,dc=keyhaven,dc=local'] });
  const get = (n: string) => entry.attributes.get(n.toLowerCase())?.values;

  it('renders both the posixAccount/inetOrgPerson and the AD user views', () => {
    assert.deepEqual(get('objectClass'), ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount', 'user', 'ldapPublicKey']);
    assert.deepEqual(get('uid'), ['alice']);
    assert.deepEqual(get('cn'), ['Alice Liddell'], 'one cn: the display name under a uid= DN');
    const ad = userEntry(user, { dn: 'CN=alice,OU=AADDC Users,DC=example,DC=com', domainSid: [1, 2, 3], baseDn: 'DC=example,DC=com' });
    assert.deepEqual(ad.attributes.get('objectcategory')?.values, ['CN=Person,CN=Schema,CN=Configuration,DC=example,DC=com'], "AD's category of a user");
    assert.deepEqual(ad.attributes.get('cn')?.values, ['alice'], 'one cn: the RDN value under a CN= DN');
    assert.deepEqual(get('sn'), ['alice'], 'sn is required: the login name stands in');
    assert.deepEqual(get('uidNumber'), ['10001']);
    assert.deepEqual(get('gecos'), ['Alice Liddell']);
    assert.deepEqual(get('sshPublicKey'), ['ssh-ed25519 AAAA alice']);
    assert.deepEqual(get('sAMAccountName'), ['alice']);
    assert.deepEqual(get('userPrincipalName'), ['alice@keyhaven.local']);
    assert.deepEqual(get('memberOf'), ['cn=staff,ou=groups,dc=keyhaven,dc=local']);
    assert.deepEqual(get('userAccountControl'), ['514'], 'disabled');
    assert.deepEqual(get('whenCreated'), ['20240102030405.0Z']);
    assert.deepEqual(get('createTimestamp'), ['20240102030405Z']);
    assert.deepEqual(get('entryUUID'), [user.id]);
    assert.deepEqual(get('employeeNumber'), ['42']);
    assert.deepEqual(get('jpegPhoto'), [Buffer.from([0xff, 0xd8])]);
    assert.equal(get('userPassword'), undefined);
  });

  it('encodes objectGUID little-endian as AD does, and objectSid as a SID', () => {
    assert.equal((get('objectGUID')![0] as Buffer).toString('hex'), '67452301ab89efcd0123456789abcdef');
    assert.deepEqual(objectGuid(user.id), get('objectGUID')![0]);
    assert.match(sidString(get('objectSid')![0] as Buffer), /^S-1-5-21-1-2-3-\d+$/);
    assert.equal(sidString(objectSid([7, 8, 9], 1104)), 'S-1-5-21-7-8-9-1104');
  });
});
