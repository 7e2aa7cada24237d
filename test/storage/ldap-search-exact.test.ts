// Searches are exact (issue 8, item 3): the entries a search returns are exactly those whose
// served form matches the filter, however the planner pre-selects candidates. Regression
// cases found by hand — an imported entry whose served cn is its RDN's value while its
// displayName differs — and the changes a search must see at once (no time-to-live).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import { DIRECTORY_READERS } from '../../src/directory/role-definitions.js';
import { importLdif } from '../../src/directory/ldif/ldif-import.js';
import type { LdapEntry, LdapViewer, SearchParams } from '../../src/ldap/ldap-directory.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

const BASE = 'dc=example,dc=org';

for (const engine of engines) {
  describe(`LDAP searches are exact: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;
    let view: LdapView;
    let service: LdapViewer;

    async function dns(filter: string, scope: SearchParams['scope'] = 'sub', baseDn = BASE): Promise<string[]> {
      const out: LdapEntry[] = [];
      for await (const e of view.search({ baseDn, scope, filter: parseFilterText(filter), attributes: [], typesOnly: false }, service)) out.push(e);
      return out.map((e) => e.dn.toLowerCase()).sort();
    }

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      admin = d.directory.system();
      view = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'example.org', ldapBaseDn: BASE }) });
      const ldif = [
        'dn: cn=Ada K. Lovelace,ou=people,dc=example,dc=org',
        'objectClass: inetOrgPerson', 'cn: Ada K. Lovelace', 'sn: Lovelace', 'uid: ada', 'displayName: Ada', 'mail: ada@example.org', '',
        'dn: cn=engines,ou=groups,dc=example,dc=org',
        'objectClass: groupOfNames', 'cn: engines', 'member: cn=Ada K. Lovelace,ou=people,dc=example,dc=org', '',
      ].join('\n');
      await importLdif(d.deps, ldif, { directoryDomain: 'example.org' });
      const { application, servicePrincipal } = await admin.applications().create({ displayName: 'reader', withServicePrincipal: true });
      const cred = await admin.applications().addPassword(application.id, { displayName: 'ldap' });
      await admin.roleAssignments().assign({ roleDefinitionId: DIRECTORY_READERS, principalId: servicePrincipal!.id });
      service = (await view.bind(`cn=${application.appId},ou=services,${BASE}`, cred.secretText, '127.0.0.1')).viewer;
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    const ADA = 'cn=ada k. lovelace,ou=people,dc=example,dc=org';

    it('an equality on cn finds the imported entry that serves that cn (its displayName differs)', async () => {
      assert.deepEqual(await dns('(|(cn=Ada K. Lovelace)(uid=nobody-at-all))'), [ADA]);
      assert.deepEqual(await dns('(cn=Ada K. Lovelace)'), [ADA]);
      assert.deepEqual(await dns('(&(objectClass=inetOrgPerson)(cn=ada k.  lovelace))'), [ADA], 'caseIgnoreMatch: case and inner spaces');
      assert.deepEqual(await dns('(cn=Ada)', 'sub', `ou=people,${BASE}`), [], 'the displayName is not a cn the entry serves');
      assert.deepEqual(await dns('(&(cn=Ada)(objectClass=posixGroup))'), ['cn=ada,ou=groups,dc=example,dc=org'], 'the user private group is served under that name');
    });

    it('member= by the DN served, and changes seen by the next search', async () => {
      assert.deepEqual(await dns(`(member=${ADA})`), ['cn=engines,ou=groups,dc=example,dc=org']);
      const bob = await admin.users().create({ userPrincipalName: 'bob@example.org', displayName: 'Bob', password: GOOD_PASSWORD });
      const engines = (await d.directory.readModel()).findGroup('engines')!;
      await admin.groups().addMember(engines.id, bob.id);
      assert.deepEqual(await dns('(&(memberUid=bob)(member=*))'), ['cn=engines,ou=groups,dc=example,dc=org']);
      await admin.groups().removeMember(engines.id, bob.id);
      assert.deepEqual(await dns('(&(memberUid=bob)(member=*))'), [], 'a removal is effective on the next search');
      await admin.users().update(bob.id, { displayName: 'Robert' });
      assert.deepEqual(await dns('(&(uid=bob)(displayName=Robert))'), ['uid=bob,ou=people,dc=example,dc=org']);
    });
  });
}
