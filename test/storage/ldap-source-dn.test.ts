// LDIF-imported objects in the directory core and the LDAP view, on both engines: the core
// exposes keyhavenLdap {sourceDn, objectClasses, attributes} (never a hash) and finds an object
// by its original DN ignoring case, spacing and escaping; the view serves it under that DN,
// also outside the base DN (its tree is a naming context of its own, issue 8 item 4).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { importLdif } from '../../src/directory/ldif/ldif-import.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import type { LdapEntry, LdapViewer } from '../../src/ldap/ldap-directory.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

const LDIF = [
  'version: 1',
  '',
  // Stored with a space after each comma, as some exports write it.
  'dn: CN=Jane Doe, OU=Staff, DC=corp, DC=example',
  'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
  'cn: Jane Doe', 'sn: Doe', 'sAMAccountName: jdoe', `userPassword: ${GOOD_PASSWORD}`,
  '',
  'dn: cn=Smith\\, Ann,ou=people,dc=corp,dc=example',
  'objectClass: inetOrgPerson', 'uid: asmith', 'cn: Smith, Ann', 'sn: Smith',
  '',
  // Outside ldapBaseDn: served under its own DN, in the naming context dc=elsewhere,dc=org.
  'dn: uid=outsider,ou=people,dc=elsewhere,dc=org',
  'objectClass: inetOrgPerson', 'uid: outsider', 'cn: Outsider', 'sn: Outsider',
  '',
  'dn: cn=Crew,ou=groups,dc=corp,dc=example',
  'objectClass: groupOfUniqueNames', 'cn: Crew', 'uniqueMember: cn=jane doe,ou=staff,dc=corp,dc=example',
  'uniqueMember: uid=outsider,ou=people,dc=elsewhere,dc=org',
  '',
].join('\n');

for (const engine of engines) {
  describe(`LDIF source DNs: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let view: LdapView;
    let service: LdapViewer;

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      await importLdif(d.deps, LDIF, { directoryDomain: 'corp.example' });
      view = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'corp.example' }) });
      // A user bound by the original DN, who may search (users see others by default).
      service = (await view.bind('CN=Jane Doe,OU=Staff,DC=corp,DC=example', GOOD_PASSWORD, '127.0.0.1')).viewer;
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    it('the core exposes keyhavenLdap and finds objects by original DN ignoring case, spacing and escaping', async () => {
      const reader = d.directory.system().reader();
      const jane = await reader.getUser('jdoe');
      assert.deepEqual(jane.keyhavenLdap, {
        sourceDn: 'CN=Jane Doe, OU=Staff, DC=corp, DC=example', objectClasses: ['top', 'person', 'organizationalPerson', 'user'],
        attributes: { cn: ['Jane Doe'], sn: ['Doe'], sAMAccountName: ['jdoe'] },
      });
      assert.ok(!JSON.stringify(jane).includes(GOOD_PASSWORD) && !/scrypt|password_hash/i.test(JSON.stringify(jane)));
      for (const dn of ['CN=Jane Doe, OU=Staff, DC=corp, DC=example', 'cn=jane doe,ou=staff,dc=corp,dc=example', ' CN = Jane Doe ,OU=Staff,  DC=corp,DC=example ']) {
        const found = await reader.findBySourceDn(dn);
        assert.equal(found?.kind === 'user' && found.user.id, jane.id, dn);
      }
      const ann = await reader.findBySourceDn('CN=smith\\2c ann,OU=People,DC=corp,DC=example');
      assert.equal(ann?.kind === 'user' && ann.user.mailNickname, 'asmith');
      const group = await reader.findBySourceDn('CN=CREW,ou=groups,dc=corp,dc=example');
      assert.equal(group?.kind === 'group' && group.group.keyhavenLdap?.sourceDn, 'cn=Crew,ou=groups,dc=corp,dc=example');
      assert.equal(await reader.findBySourceDn('cn=nobody,ou=staff,dc=corp,dc=example'), undefined);
      assert.equal(await reader.findBySourceDn('cn=a\u0000b,dc=corp,dc=example'), undefined);
      assert.equal(await reader.findBySourceDn('not a dn'), undefined);
      // Objects made in Keyhaven carry none.
      const admin = await d.directory.system().users().create({ userPrincipalName: 'native@corp.example', displayName: 'Native' });
      assert.equal('keyhavenLdap' in admin, false);
    });

    it('the view serves imported DNs under the base and outside it (a naming context of their own), and original classes', async () => {
      assert.equal(service.kind === 'user' && service.dn, 'CN=Jane Doe,OU=Staff,DC=corp,DC=example');
      const search = async (filter: string, baseDn = 'dc=corp,dc=example') => {
        const out: LdapEntry[] = [];
        for await (const e of view.search({ baseDn, scope: 'sub', filter: parseFilterText(filter), attributes: [], typesOnly: false }, service)) out.push(e);
        return out;
      };
      const [crew] = await search('(cn=Crew)');
      assert.equal(crew?.dn, 'cn=Crew,ou=groups,dc=corp,dc=example');
      assert.deepEqual(crew?.attributes.get('member')?.values.map(String).sort(), ['CN=Jane Doe,OU=Staff,DC=corp,DC=example', 'uid=outsider,ou=people,dc=elsewhere,dc=org']);
      // A groupOfUniqueNames lists them as uniqueMember too, as it was imported.
      assert.deepEqual(crew?.attributes.get('uniquemember')?.values.map(String).sort(), ['CN=Jane Doe,OU=Staff,DC=corp,DC=example', 'uid=outsider,ou=people,dc=elsewhere,dc=org']);
      assert.ok(crew?.attributes.get('objectclass')?.values.includes('groupOfUniqueNames'));
      assert.deepEqual(await search('(uid=outsider)'), []);
      const [outsider] = await search('(uid=outsider)', 'dc=elsewhere,dc=org');
      assert.equal(outsider?.dn, 'uid=outsider,ou=people,dc=elsewhere,dc=org');
      // Both trees are naming contexts in the Root DSE; the base of the second answers as an entry above the imported ones.
      assert.deepEqual((await view.rootDse()).attributes.get('namingcontexts')?.values, ['dc=corp,dc=example', 'dc=elsewhere,dc=org']);
      const [context] = await (async () => {
        const out: LdapEntry[] = [];
        for await (const e of view.search({ baseDn: 'dc=elsewhere,dc=org', scope: 'base', filter: parseFilterText('(objectClass=*)'), attributes: [], typesOnly: false }, service)) out.push(e);
        return out;
      })();
      assert.equal(context?.dn, 'dc=elsewhere,dc=org');
      const [ann] = await search('(uid=asmith)', 'cn=smith\\2c ann,ou=people,dc=corp,dc=example');
      assert.equal(ann?.dn, 'cn=Smith\\, Ann,ou=people,dc=corp,dc=example');
      // The original DN outside the base still binds.
      const bound = await view.bind('uid=outsider,ou=people,dc=elsewhere,dc=org', 'whatever', '127.0.0.1').catch((e: { resultCode?: number }) => e.resultCode);
      assert.equal(bound, 49, 'no password imported: refused like a wrong one');
    });
  });
}
