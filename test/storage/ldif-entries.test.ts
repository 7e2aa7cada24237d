// Imported entries that are neither users nor groups, on both engines (issue 8, items 2, 4, 5):
// the base and containers kept whole and served in place of the layout's, bind-only accounts
// (`cn=reader`) binding with their original DN and legacy password as a service principal that
// reads nothing until granted Directory Readers, and the hostile cases — wrong password,
// unknown DN, a disabled account, a second import of the same file, a dry run — each with a
// clear error and nothing changed. Audit records never hold the password.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { importLdif } from '../../src/directory/ldif/ldif-import.js';
import { DIRECTORY_READERS } from '../../src/directory/role-definitions.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import type { LdapEntry, LdapViewer } from '../../src/ldap/ldap-directory.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { openDirectory, rejectsWith, type DirectoryFixture } from './directory-fixture.js';

const PASSWORD = `reader-${randomBytes(6).toString('hex')}`;
const READER = 'cn=reader,dc=example,dc=org';

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

const LDIF = [
  'dn: dc=example,dc=org', 'objectClass: top', 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example Org',
  'description: the base', '',
  'dn: ou=people,dc=example,dc=org', 'objectClass: organizationalUnit', 'ou: people', 'description: people live here', '',
  `dn: ${READER}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: reader', `userPassword: ${ssha(PASSWORD)}`, '',
  'dn: uid=ada,ou=people,dc=example,dc=org', 'objectClass: inetOrgPerson', 'uid: ada', 'cn: Ada King', 'cn: Ada Lovelace', 'sn: King',
  'displayName: Ada', '',
].join('\n');

for (const engine of engines) {
  describe(`LDIF entries and bind-only accounts: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let view: LdapView;
    let spId: string;

    const search = async (viewer: LdapViewer, baseDn: string, filter: string, scope: 'base' | 'one' | 'sub' = 'sub') => {
      const out: LdapEntry[] = [];
      for await (const e of view.search({ baseDn, scope, filter: parseFilterText(filter), attributes: [], typesOnly: false }, viewer)) out.push(e);
      return out;
    };

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      view = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    it('a dry run reports the account and kept entries and writes nothing', async () => {
      const result = await importLdif(d.deps, LDIF, { directoryDomain: 'keyhaven.local', dryRun: true });
      assert.equal(result.entriesKept, 3);
      assert.deepEqual(result.serviceAccounts.map((a) => a.dn), [READER]);
      assert.deepEqual(result.namingContexts, ['dc=example,dc=org']);
      assert.deepEqual(await d.deps.storage.read.ldapEntries.all(), []);
      assert.equal(await d.deps.storage.read.settings.get('ldap.importedNamingContexts'), undefined);
      assert.equal((await d.deps.storage.read.servicePrincipals.list(undefined, { limit: 10 })).rows.length, 0);
    });

    it('a group whose member names a kept entry (an OU) is refused with the line', async () => {
      const text = 'dn: ou=x,dc=y\nobjectClass: organizationalUnit\nou: x\n\ndn: cn=g,dc=y\nobjectClass: groupOfNames\ncn: g\nmember: ou=x,dc=y\n';
      await assert.rejects(importLdif(d.deps, text, { directoryDomain: 'keyhaven.local', dryRun: true }), /line 8: member: 'ou=x,dc=y' is neither a user nor a group/);
    });

    it('imports them, and a second import of the same file is refused whole', async () => {
      const result = await importLdif(d.deps, LDIF, { directoryDomain: 'keyhaven.local' });
      spId = result.serviceAccounts[0]!.servicePrincipalId;
      assert.equal((await d.deps.storage.read.ldapEntries.all()).length, 3);
      await assert.rejects(importLdif(d.deps, LDIF, { directoryDomain: 'keyhaven.local' }), /line 1: .*already taken/);
      assert.equal((await d.deps.storage.read.ldapEntries.all()).length, 3);
    });

    it('the account binds by DN (any case and spacing) and password; the legacy hash is replaced', async () => {
      const before = (await d.deps.storage.read.ldapEntries.byServicePrincipal(spId))!.password_hash!;
      assert.match(before, /^\{SSHA\}/);
      const sp = await d.directory.authenticateLdapAccount(' CN=Reader, DC=example,DC=ORG ', PASSWORD, '127.0.0.1');
      assert.equal(sp.objectId, spId);
      const afterHash = (await d.deps.storage.read.ldapEntries.byServicePrincipal(spId))!.password_hash!;
      assert.doesNotMatch(afterHash, /^\{SSHA\}/);
      // The new hash verifies the same password.
      assert.equal((await d.directory.authenticateLdapAccount(READER, PASSWORD, '127.0.0.1')).objectId, spId);
      const bound = await view.bind('cn=READER,dc=example,dc=org', PASSWORD, '127.0.0.1');
      assert.deepEqual(bound.viewer, { kind: 'serviceAccount', id: spId, dn: READER });
    });

    it('wrong passwords and unknown DNs fail alike; audit records hold no password', async () => {
      const wrong = await rejectsWith(d.directory.authenticateLdapAccount(READER, `${PASSWORD}x`, '127.0.0.2'), 'KH_INVALID_CREDENTIALS');
      const unknown = await rejectsWith(d.directory.authenticateLdapAccount('cn=nobody,dc=example,dc=org', PASSWORD, '127.0.0.2'), 'KH_INVALID_CREDENTIALS');
      assert.equal(wrong.message, unknown.message);
      // A DN that names a kept entry with no password (the base) is no account either.
      await rejectsWith(d.directory.authenticateLdapAccount('dc=example,dc=org', PASSWORD, '127.0.0.2'), 'KH_INVALID_CREDENTIALS');
      await rejectsWith(d.directory.authenticateLdapAccount('', PASSWORD, '127.0.0.2'), 'KH_INVALID_CREDENTIALS');
      await rejectsWith(d.directory.authenticateLdapAccount(`cn=a\u0000b,${READER}`, PASSWORD, '127.0.0.2'), 'KH_INVALID_CREDENTIALS');
      const bad = await view.bind(READER, 'nope', '127.0.0.2').catch((e: { resultCode?: number }) => e.resultCode);
      assert.equal(bad, 49);
      const records = JSON.stringify(await d.deps.storage.read.audit.page(0, 10_000));
      assert.ok(!records.includes(PASSWORD), 'a password reached the audit log');
      assert.match(records, /ldap-password/);
    });

    it('reads nothing until granted Directory Readers, then sees the imported tree as imported', async () => {
      const viewer: LdapViewer = { kind: 'serviceAccount', id: spId, dn: READER };
      const denied = await search(viewer, 'dc=example,dc=org', '(objectClass=*)').catch((e: { resultCode?: number }) => e.resultCode);
      assert.equal(denied, 50);
      await d.directory.system().roleAssignments().assign({ roleDefinitionId: DIRECTORY_READERS, principalId: spId });
      const all = await search(viewer, 'dc=example,dc=org', '(objectClass=*)');
      assert.deepEqual(all.map((e) => e.dn).sort(), [READER, 'dc=example,dc=org', 'ou=people,dc=example,dc=org', 'uid=ada,ou=people,dc=example,dc=org'].sort());
      const base = all.find((e) => e.dn === 'dc=example,dc=org')!;
      assert.deepEqual(base.attributes.get('objectclass')?.values, ['top', 'dcObject', 'organization']);
      assert.deepEqual(base.attributes.get('o')?.values, ['Example Org']);
      const reader = all.find((e) => e.dn === READER)!;
      assert.equal(reader.attributes.has('userpassword'), false);
      const ada = all.find((e) => e.dn.startsWith('uid=ada'))!;
      assert.deepEqual(ada.attributes.get('cn')?.values, ['Ada King', 'Ada Lovelace']);
      assert.deepEqual(ada.attributes.get('displayname')?.values, ['Ada']);
      // one-level under the base, and a base search of the container.
      assert.deepEqual((await search(viewer, 'dc=example,dc=org', '(objectClass=*)', 'one')).map((e) => e.dn).sort(), [READER, 'ou=people,dc=example,dc=org'].sort());
      const [people] = await search(viewer, 'OU=People,DC=Example,DC=Org', '(description=people*)', 'base');
      assert.equal(people?.dn, 'ou=people,dc=example,dc=org');
      // Outside every naming context: noSuchObject, as before.
      const none = await search(viewer, 'dc=nowhere,dc=org', '(objectClass=*)').catch((e: { resultCode?: number }) => e.resultCode);
      assert.equal(none, 32);
      assert.deepEqual((await view.rootDse()).attributes.get('namingcontexts')?.values, ['dc=keyhaven,dc=local', 'dc=example,dc=org']);
      assert.equal(await view.compare('dc=example,dc=org', 'o', 'example org', viewer), true);
    });

    it('a disabled account is refused after the right password only', async () => {
      await d.directory.system().applications().updateServicePrincipal(spId, { accountEnabled: false });
      await rejectsWith(d.directory.authenticateLdapAccount(READER, PASSWORD, '127.0.0.3'), 'KH_CLIENT_DISABLED');
      await rejectsWith(d.directory.authenticateLdapAccount(READER, 'wrong', '127.0.0.3'), 'KH_INVALID_CREDENTIALS');
    });
  });
}
