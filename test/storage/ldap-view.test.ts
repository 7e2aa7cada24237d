// The LDAP view over a real directory on both engines, through LdapDirectory itself: bind
// (users by DN in both layouts and by UPN, service accounts, one answer for unknown and wrong,
// lockout as 49/775), search (scopes, JupyterHub's lookups, member/memberOf as DNs, IN_CHAIN
// at once after a change, noSuchObject), compare, password modify, and who sees what: the
// directory's scoped reader (src/directory/scoped-reader.ts) — every attribute public but the
// private ones, which only the entry itself and administrators see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import { DIRECTORY_READERS, USER_ADMINISTRATOR } from '../../src/directory/role-definitions.js';
import { LdapResultError, type LdapEntry, type LdapViewer, type SearchParams } from '../../src/ldap/ldap-directory.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

const SOURCE = '198.51.100.9';
const BASE = 'dc=keyhaven,dc=local';

async function all(view: LdapView, viewer: LdapViewer, filter: string, baseDn = BASE, scope: SearchParams['scope'] = 'sub', attributes: string[] = []): Promise<LdapEntry[]> {
  const out: LdapEntry[] = [];
  for await (const e of view.search({ baseDn, scope, filter: parseFilterText(filter), attributes, typesOnly: false }, viewer)) out.push(e);
  return out;
}

async function rejectsCode(p: Promise<unknown> | (() => Promise<unknown>), code: number): Promise<LdapResultError> {
  let caught: unknown;
  await assert.rejects(typeof p === 'function' ? p() : p, (e) => {
    caught = e;
    return e instanceof LdapResultError && e.resultCode === code;
  }, `expected LDAP result ${code}`);
  return caught as LdapResultError;
}

const values = (e: LdapEntry | undefined, name: string) => e?.attributes.get(name.toLowerCase())?.values.map(String);

for (const engine of engines) {
  describe(`LDAP view: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;
    let view: LdapView;
    let ids: Record<'alice' | 'bob' | 'carol' | 'staff' | 'researchers', string>;
    let service: LdapViewer;
    let alice: LdapViewer;
    const anonymous: LdapViewer = { kind: 'anonymous' };

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx, { threshold: 3, baseDelaySeconds: 60 });
      admin = d.directory.system();
      view = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
      const mk = (name: string, extra = {}) => admin.users().create({ userPrincipalName: `${name}@keyhaven.local`, displayName: `${name[0]!.toUpperCase()}${name.slice(1)} Test`, password: GOOD_PASSWORD, mail: `${name}@example.org`, ...extra });
      const a = await mk('alice', { keyhavenExtraAttributes: { employeeNumber: ['E-1'], departmentNumber: ['D-7'] } });
      const b = await mk('bob', { keyhavenExtraAttributes: { employeeNumber: ['E-2'], homePhone: ['+1 555 0100'] } });
      const c = await mk('carol', { accountEnabled: false });
      const staff = await admin.groups().create({ displayName: 'Scientists', mailNickname: 'scientists' });
      const researchers = await admin.groups().create({ displayName: 'Researchers', mailNickname: 'researchers' });
      await admin.groups().addMember(researchers.id, a.id);
      await admin.groups().addMember(staff.id, researchers.id);
      await admin.groups().addMember(staff.id, b.id);
      ids = { alice: a.id, bob: b.id, carol: c.id, staff: staff.id, researchers: researchers.id };
      const { application, servicePrincipal } = await admin.applications().create({ displayName: 'jupyterhub', withServicePrincipal: true });
      const cred = await admin.applications().addPassword(application.id, { displayName: 'ldap' });
      await admin.roleAssignments().assign({ roleDefinitionId: DIRECTORY_READERS, principalId: servicePrincipal!.id });
      service = (await view.bind(`cn=${application.appId},ou=services,${BASE}`, cred.secretText, SOURCE)).viewer;
      alice = (await view.bind(`uid=alice,ou=people,${BASE}`, GOOD_PASSWORD, SOURCE)).viewer;
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    it('binds users by DN (any case and spacing) and by UPN; unknown and wrong answer alike', async () => {
      assert.deepEqual(alice, { kind: 'user', id: ids.alice, dn: `uid=alice,ou=people,${BASE}` });
      assert.equal((await view.bind('UID=Bob, OU=People, DC=keyhaven,DC=local', GOOD_PASSWORD, SOURCE)).viewer.id, ids.bob);
      assert.equal((await view.bind('bob@keyhaven.local', GOOD_PASSWORD, SOURCE)).viewer.id, ids.bob);
      const wrong = await rejectsCode(view.bind(`uid=bob,ou=people,${BASE}`, 'wrong password!!', SOURCE), 49);
      const unknown = await rejectsCode(view.bind(`uid=nobody,ou=people,${BASE}`, 'wrong password!!', SOURCE), 49);
      assert.equal(wrong.message, unknown.message);
      await rejectsCode(view.bind(`cn=bob,ou=elsewhere,${BASE}`, GOOD_PASSWORD, SOURCE), 49);
      await rejectsCode(view.bind(`uid=bob,ou=people,${BASE}`, '', SOURCE), 53);
      await rejectsCode(view.bind(`uid=a\u0000b,ou=people,${BASE}`, 'x', SOURCE), 49);
      const disabled = await rejectsCode(view.bind(`uid=carol,ou=people,${BASE}`, GOOD_PASSWORD, SOURCE), 49);
      assert.match(disabled.message, /data 533/);
      await rejectsCode(view.bind(`cn=00000000-0000-0000-0000-000000000000,ou=services,${BASE}`, 'nope', SOURCE), 49);
    });

    it('locks an account after repeated failures with 49 / data 775, as AD does', async () => {
      await admin.users().create({ userPrincipalName: 'dave@keyhaven.local', displayName: 'Dave', password: GOOD_PASSWORD });
      for (let i = 0; i < 3; i++) await rejectsCode(view.bind(`uid=dave,ou=people,${BASE}`, 'not it at all', SOURCE), 49);
      const locked = await rejectsCode(view.bind(`uid=dave,ou=people,${BASE}`, GOOD_PASSWORD, SOURCE), 49);
      assert.match(locked.message, /data 775/);
    });

    it("serves JupyterHub's lookups: sAMAccountName, uid, and group membership as DNs", async () => {
      const [found, ...rest] = await all(view, service, '(sAMAccountName=ALICE)');
      assert.equal(rest.length, 0);
      assert.equal(found!.dn, `uid=alice,ou=people,${BASE}`);
      assert.deepEqual(values(found, 'memberOf'), [`cn=researchers,ou=groups,${BASE}`]);
      assert.deepEqual(values(found, 'departmentNumber'), ['D-7'], 'an extra attribute is public like any other');
      assert.equal(values(found, 'employeeNumber'), undefined, 'a private attribute: only the entry itself and administrators');
      const groups = await all(view, service, `(&(objectClass=groupOfNames)(member=UID=Alice,OU=People,${BASE}))`, `ou=groups,${BASE}`);
      assert.deepEqual(groups.map((g) => g.dn), [`cn=researchers,ou=groups,${BASE}`]);
      const staff = (await all(view, service, '(cn=scientists)', `ou=groups,${BASE}`, 'one'))[0];
      assert.deepEqual(values(staff, 'member')!.sort(), [`cn=researchers,ou=groups,${BASE}`, `uid=bob,ou=people,${BASE}`].sort());
      assert.deepEqual(values(staff, 'memberUid'), ['bob']);
      assert.equal((await all(view, service, '(uid=a*)')).length, 1);
      assert.equal((await all(view, service, '(uid=ali\\2a)')).length, 0, 'an escaped * in a username is no wildcard');
    });

    it('resolves nested membership with IN_CHAIN, agreeing with the directory at once after a change', async () => {
      const inChain = `(memberOf:1.2.840.113556.1.4.1941:=cn=scientists,ou=groups,${BASE})`;
      const names = async () => (await all(view, service, `(&(objectClass=user)${inChain})`)).map((e) => values(e, 'uid')![0] ?? '').sort();
      assert.deepEqual(await names(), ['alice', 'bob']);
      await admin.groups().removeMember(ids.researchers, ids.alice);
      assert.deepEqual(await names(), ['bob']);
      await admin.groups().addMember(ids.researchers, ids.alice);
      assert.deepEqual(await names(), ['alice', 'bob']);
      const groupsOfAlice = await all(view, service, `(member:1.2.840.113556.1.4.1941:=uid=alice,ou=people,${BASE})`);
      assert.deepEqual(groupsOfAlice.map((g) => values(g, 'cn')![0] ?? '').sort(), ['researchers', 'scientists']);
      const disabled = await all(view, service, '(userAccountControl:1.2.840.113556.1.4.803:=2)');
      assert.deepEqual(disabled.map((e) => values(e, 'uid')![0] ?? ''), ['carol']);
    });

    it('handles scopes, the structural entries and a missing base', async () => {
      const base = await all(view, service, '(objectClass=*)', BASE, 'base');
      assert.deepEqual(base.map((e) => e.dn), [BASE]);
      const one = await all(view, service, '(objectClass=*)', BASE, 'one');
      assert.deepEqual(one.map((e) => e.dn).sort(), [`ou=groups,${BASE}`, `ou=people,${BASE}`, `ou=services,${BASE}`]);
      const people = await all(view, service, '(objectClass=*)', `ou=people,${BASE}`, 'one');
      assert.equal(people.length, 4, 'alice, bob, carol, dave');
      const self = await all(view, service, '(objectClass=*)', `UID=alice,ou=people,${BASE}`, 'base');
      assert.equal(self.length, 1);
      const missing = await rejectsCode(() => all(view, service, '(objectClass=*)', `uid=nobody,ou=people,${BASE}`, 'base'), 32);
      assert.equal(missing.matchedDn, `ou=people,${BASE}`);
      await rejectsCode(() => all(view, service, '(objectClass=*)', 'dc=other', 'sub'), 32);
      assert.equal((await all(view, service, '(sudoRole=*)')).length, 0, 'undefined types: no match, no error');
      assert.equal((await all(view, service, '(objectClass=*)', '', 'base'))[0]!.dn, '');
    });

    it('shows users their own entry fully and public attributes of others; anonymous nothing by default', async () => {
      const own = (await all(view, alice, '(uid=alice)'))[0];
      assert.deepEqual(values(own, 'employeeNumber'), ['E-1']);
      const other = (await all(view, alice, '(uid=bob)'))[0];
      assert.ok(other, 'others are visible');
      assert.deepEqual(values(other, 'uid'), ['bob']);
      // One rule for every public attribute, Keyhaven's own or not.
      assert.deepEqual(values(other, 'userAccountControl'), ['512']);
      assert.equal(values(other, 'employeeNumber'), undefined);
      assert.equal(values(other, 'homePhone'), undefined);
      assert.equal((await all(view, alice, '(employeeNumber=E-2)')).length, 0, 'a hidden attribute cannot be probed by filter');
      assert.equal((await all(view, alice, '(homePhone=*)')).length, 0, 'nor by presence');
      assert.equal((await all(view, alice, '(employeeNumber=E-1)')).length, 1, 'her own, she may');
      await rejectsCode(() => all(view, anonymous, '(uid=alice)'), 50);
      const open = new LdapView({ directory: d.withOptions({ visibility: { anonymousRead: true } }), config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
      const anon = (await all(open, anonymous, '(sAMAccountName=alice)'))[0];
      assert.deepEqual(values(anon, 'uid'), ['alice']);
      assert.deepEqual(values(anon, 'departmentNumber'), ['D-7']);
      assert.equal(values(anon, 'employeeNumber'), undefined);
      const closed = new LdapView({ directory: d.withOptions({ visibility: { usersSeeOthers: false } }), config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
      assert.deepEqual((await all(closed, alice, '(objectClass=user)')).map((e) => values(e, 'uid')![0] ?? ''), ['alice']);
      assert.deepEqual((await all(closed, alice, '(objectClass=group)')).map((e) => values(e, 'cn')![0] ?? '').sort(), ['researchers', 'scientists']);
      // The list is configuration: with departmentNumber private and employeeNumber not.
      const custom = new LdapView({ directory: d.withOptions({ visibility: { privateAttributes: ['departmentNumber', 'home*'] } }), config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
      const bobSeen = (await all(custom, service, '(uid=bob)'))[0];
      assert.deepEqual(values(bobSeen, 'employeeNumber'), ['E-2']);
      assert.equal(values(bobSeen, 'homePhone'), undefined);
      assert.equal(values(bobSeen, 'homeDirectory'), undefined, 'a prefix pattern matches any attribute it prefixes');
      assert.equal(values((await all(custom, service, '(uid=alice)'))[0], 'departmentNumber'), undefined);
      for (const e of await all(view, service, '(objectClass=*)')) {
        assert.ok(!e.attributes.has('userpassword'), 'no password attribute anywhere');
      }
    });

    it('shows administrators (a user who may manage users) the private attributes too, while the role lasts', async () => {
      const erin = await admin.users().create({ userPrincipalName: 'erin@keyhaven.local', displayName: 'Erin', password: GOOD_PASSWORD });
      const bound = (await view.bind('uid=erin,ou=people,' + BASE, GOOD_PASSWORD, SOURCE)).viewer;
      assert.equal(values((await all(view, bound, '(uid=bob)'))[0], 'employeeNumber'), undefined, 'no role: an ordinary user');
      const assignment = await admin.roleAssignments().assign({ roleDefinitionId: USER_ADMINISTRATOR, principalId: erin.id });
      const bob = (await all(view, bound, '(uid=bob)'))[0];
      assert.deepEqual(values(bob, 'employeeNumber'), ['E-2']);
      assert.deepEqual(values(bob, 'homePhone'), ['+1 555 0100']);
      assert.equal((await all(view, bound, '(employeeNumber=E-2)')).length, 1);
      await admin.roleAssignments().remove(assignment.id);
      assert.equal(values((await all(view, bound, '(uid=bob)'))[0], 'employeeNumber'), undefined, 'decided per operation, not at bind');
      await admin.users().delete(erin.id);
      await rejectsCode(() => all(view, bound, '(uid=bob)'), 50);
    });

    it('applies the same rule to the Graph reader: private extra attributes only for the object itself and administrators', async () => {
      const extras = async (callerId: string) => (await (await d.directory.access({ id: callerId })).reader().getUser('bob')).keyhavenExtraAttributes;
      assert.deepEqual(await extras(ids.alice), {});
      assert.deepEqual(await extras(ids.bob), { employeeNumber: ['E-2'], homePhone: ['+1 555 0100'] });
      const listed = (await (await d.directory.access({ id: ids.alice })).reader().listUsers()).value.find((u) => u.id === ids.alice);
      assert.deepEqual(listed?.keyhavenExtraAttributes, { employeeNumber: ['E-1'], departmentNumber: ['D-7'] }, 'her own, in a list too');
      const members = (await (await d.directory.access({ id: ids.alice })).reader().members(ids.staff)).value;
      assert.deepEqual((members.find((m) => m.id === ids.bob) as { keyhavenExtraAttributes?: unknown } | undefined)?.keyhavenExtraAttributes, {});
      assert.deepEqual((await admin.reader().getUser('bob')).keyhavenExtraAttributes.employeeNumber, ['E-2']);
    });

    it('refuses a service principal without a directory role', async () => {
      const { application } = await admin.applications().create({ displayName: 'no-role', withServicePrincipal: true });
      const cred = await admin.applications().addPassword(application.id, { displayName: 'ldap' });
      const viewer = (await view.bind(`cn=${application.appId},ou=services,${BASE}`, cred.secretText, SOURCE)).viewer;
      await rejectsCode(() => all(view, viewer, '(uid=alice)'), 50);
    });

    it('compares as the attribute’s matching rule says', async () => {
      assert.equal(await view.compare(`uid=alice,ou=people,${BASE}`, 'mail', 'ALICE@example.org', service), true);
      assert.equal(await view.compare(`uid=alice,ou=people,${BASE}`, 'uid', 'bob', service), false);
      assert.equal(await view.compare(`cn=scientists,ou=groups,${BASE}`, 'member', `UID=bob, ou=people,${BASE}`, service), true);
      await rejectsCode(view.compare(`uid=alice,ou=people,${BASE}`, 'sudoRole', 'x', service), 17);
      await rejectsCode(view.compare(`uid=alice,ou=people,${BASE}`, 'givenName', 'x', service), 16);
      await rejectsCode(view.compare(`uid=nobody,ou=people,${BASE}`, 'uid', 'x', service), 32);
    });

    it('changes a user’s own password (RFC 3062) under the policy', async () => {
      const erin = await admin.users().create({ userPrincipalName: 'erin@keyhaven.local', displayName: 'Erin', password: GOOD_PASSWORD });
      const viewer = (await view.bind(`uid=erin,ou=people,${BASE}`, GOOD_PASSWORD, SOURCE)).viewer;
      await rejectsCode(view.changePassword(viewer, `uid=alice,ou=people,${BASE}`, GOOD_PASSWORD, 'another good passphrase 7', SOURCE), 50);
      await rejectsCode(view.changePassword(viewer, undefined, GOOD_PASSWORD, 'short', SOURCE), 19);
      await rejectsCode(view.changePassword(viewer, undefined, 'not the password', 'another good passphrase 7', SOURCE), 49);
      await rejectsCode(view.changePassword(service, undefined, GOOD_PASSWORD, 'another good passphrase 7', SOURCE), 50);
      assert.equal(await view.changePassword(viewer, `UID=Erin,ou=people,${BASE}`, GOOD_PASSWORD, 'another good passphrase 7', SOURCE), undefined);
      assert.equal((await view.bind(`uid=erin,ou=people,${BASE}`, 'another good passphrase 7', SOURCE)).viewer.id, erin.id);
    });
  });
}
