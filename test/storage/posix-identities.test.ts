// POSIX identities in the directory core, on both engines: reserved group names from
// configuration, user private groups and the writes that keep every user's gid named
// (a group may not take a private group's name or gid), primaryGroup, and a non-POSIX user
// (the bootstrap admin's kind) becoming a POSIX account when given POSIX attributes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import type { DirectoryOptions } from '../../src/directory/directory-context.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { LoginThrottle, MemoryThrottleStore } from '../../src/directory/login-throttle.js';
import { loadCommonPasswords, PasswordPolicy } from '../../src/directory/password-policy.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { openDirectory, rejectsWith, type DirectoryFixture } from './directory-fixture.js';

for (const engine of engines) {
  describe(`POSIX identities: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;
    const policy = new PasswordPolicy({ commonPasswords: loadCommonPasswords() });
    const service = (options: DirectoryOptions) => new DirectoryService(d.deps, policy, new LoginThrottle(new MemoryThrottleStore()), options);

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      admin = d.directory.system();
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    const newUser = (name: string, posix?: Record<string, unknown>, as: DirectoryAccess = admin) =>
      as.users().create({ userPrincipalName: `${name}@example.test`, displayName: `User ${name}`, ...(posix ? { keyhavenPosix: posix } : {}) });
    const newGroup = (name: string, gidNumber?: number, as: DirectoryAccess = admin) =>
      as.groups().create({ displayName: name, mailNickname: name, ...(gidNumber !== undefined ? { keyhavenPosix: { gidNumber } } : {}) });

    it('refuses reserved group names with a message naming the setting, and accepts staff', async () => {
      for (const name of ['sudo', 'wheel', 'docker', 'systemd-journal']) {
        const err = await rejectsWith(newGroup(name), 'KH_GROUP_NAME_RESERVED');
        assert.match(err.message, /reservedGroupNames/);
      }
      const staff = await newGroup('staff');
      assert.equal(staff.mailNickname, 'staff');
      await rejectsWith(admin.groups().update(staff.id, { mailNickname: 'wheel' }), 'KH_GROUP_NAME_RESERVED');
    });

    it('takes the reserved list from configuration', async () => {
      const custom = service({ reservedGroupNames: ['research-*'] }).system();
      assert.equal((await newGroup('sudo', undefined, custom)).mailNickname, 'sudo');
      await rejectsWith(newGroup('research-admins', undefined, custom), 'KH_GROUP_NAME_RESERVED');
    });

    it('refuses users named as a reserved group while private groups are on, admits them when off', async () => {
      const err = await rejectsWith(newUser('docker'), 'KH_USER_NAME_RESERVED');
      assert.match(err.message, /private group/);
      const alice = await newUser('renameme');
      await rejectsWith(admin.users().update(alice.id, { mailNickname: 'lxd' }), 'KH_USER_NAME_RESERVED');
      const off = service({ userPrivateGroups: false }).system();
      assert.equal((await newUser('kvm', undefined, off)).mailNickname, 'kvm');
    });

    it("serves a user's private group until a group takes its place; groups may not take its name or gid", async () => {
      const ada = await newUser('ada');
      const reader = admin.reader();
      const upg = await reader.privateGroupOf(ada);
      assert.equal(upg?.name, 'ada');
      assert.equal(upg?.gidNumber, ada.keyhavenPosix.uidNumber);
      assert.deepEqual(await reader.privateGroupNamed('ADA'), upg);
      assert.deepEqual(await reader.privateGroupWithGid(ada.keyhavenPosix.uidNumber!), upg);
      // A group named ada with another gid, or another group with ada's gid, would orphan or hijack it.
      const byName = await rejectsWith(newGroup('ada'), 'KH_GROUP_NAME_TAKEN');
      assert.match(byName.message, /private group/);
      await rejectsWith(newGroup('ada-files', ada.keyhavenPosix.uidNumber!), 'KH_POSIX_ID_TAKEN');
      const other = await newGroup('ada-team');
      await rejectsWith(admin.groups().update(other.id, { mailNickname: 'ada' }), 'KH_GROUP_NAME_TAKEN');
      await rejectsWith(admin.groups().update(other.id, { keyhavenPosix: { gidNumber: ada.keyhavenPosix.uidNumber! } }), 'KH_POSIX_ID_TAKEN');
      // The same group made explicit (name and gid both ada's) is allowed and replaces it.
      const explicit = await newGroup('ada', ada.keyhavenPosix.uidNumber!);
      assert.equal(explicit.keyhavenPosix.gidNumber, ada.keyhavenPosix.uidNumber);
      assert.equal(await reader.privateGroupOf(ada), undefined);
      assert.equal(await reader.privateGroupNamed('ada'), undefined);
    });

    it('a user whose name a group already has gets no private group', async () => {
      await newGroup('grace');
      const grace = await newUser('grace');
      assert.equal(grace.keyhavenPosix.gidNumber, grace.keyhavenPosix.uidNumber);
      assert.equal(await admin.reader().privateGroupOf(grace), undefined);
    });

    it('primaryGroup sets gidNumber to the group\'s; a bad or contradicting one is refused', async () => {
      const team = await newGroup('lab-team');
      const bob = await newUser('bob', { primaryGroup: 'lab-team' });
      assert.equal(bob.keyhavenPosix.gidNumber, team.keyhavenPosix.gidNumber);
      assert.equal(await admin.reader().privateGroupOf(bob), undefined);
      await rejectsWith(newUser('bob2', { primaryGroup: 'no-such-group' }), 'KH_PRIMARY_GROUP_INVALID');
      await rejectsWith(newUser('bob3', { primaryGroup: 'lab-team', gidNumber: 4242 }), 'KH_PRIMARY_GROUP_INVALID');
      const carol = await newUser('carol');
      const updated = await admin.users().update(carol.id, { keyhavenPosix: { primaryGroup: team.id } });
      assert.equal(updated.keyhavenPosix.gidNumber, team.keyhavenPosix.gidNumber);
      // A gid no group has would be nameless on every client: refused while private groups are on.
      const nameless = await rejectsWith(newUser('gus', { gidNumber: 4343 }), 'KH_PRIMARY_GROUP_INVALID');
      assert.match(nameless.message, /no group's/);
      await rejectsWith(admin.users().update(carol.id, { keyhavenPosix: { gidNumber: 4343 } }), 'KH_PRIMARY_GROUP_INVALID');
      const byGid = await admin.users().update(carol.id, { keyhavenPosix: { gidNumber: carol.keyhavenPosix.uidNumber! } });
      assert.equal(byGid.keyhavenPosix.gidNumber, carol.keyhavenPosix.uidNumber, 'back to her private group');
      const off = service({ userPrivateGroups: false }).system();
      assert.equal((await newUser('gus', { gidNumber: 4343 }, off)).keyhavenPosix.gidNumber, 4343);
      // An explicit uid that a group holds as its gid would make that group primary unasked.
      await rejectsWith(newUser('dave', { uidNumber: team.keyhavenPosix.gidNumber! }), 'KH_POSIX_ID_TAKEN');
    });

    it('a private group follows its user when the uidNumber changes', async () => {
      const erin = await newUser('erin');
      const moved = await admin.users().update(erin.id, { keyhavenPosix: { uidNumber: 61000 } });
      assert.equal(moved.keyhavenPosix.uidNumber, 61000);
      assert.equal(moved.keyhavenPosix.gidNumber, 61000);
      assert.equal((await admin.reader().privateGroupOf(moved))?.gidNumber, 61000);
    });

    it('a user without POSIX attributes becomes a POSIX account when given one', async () => {
      const frank = await newUser('frank');
      await fx.exec('UPDATE users SET uid_number = NULL, gid_number = NULL, home_directory = NULL, login_shell = NULL WHERE id = $1'.replace('$1', engine.name === 'sqlite' ? '?' : '$1'), [frank.id]);
      const plain = await admin.reader().getUser(frank.id);
      assert.deepEqual(plain.keyhavenPosix, { uidNumber: null, gidNumber: null, homeDirectory: null, loginShell: null, sshPublicKeys: [] });
      assert.equal(await admin.reader().privateGroupOf(plain), undefined);
      const posix = await admin.users().update(frank.id, { keyhavenPosix: { loginShell: '/bin/zsh' } });
      assert.equal(typeof posix.keyhavenPosix.uidNumber, 'number');
      assert.equal(posix.keyhavenPosix.gidNumber, posix.keyhavenPosix.uidNumber);
      assert.equal(posix.keyhavenPosix.homeDirectory, '/home/frank');
      assert.equal(posix.keyhavenPosix.loginShell, '/bin/zsh');
    });
  });
}
