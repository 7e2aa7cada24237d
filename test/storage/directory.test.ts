// The directory core on both engines: users with POSIX ids, groups with nested membership and
// transitive queries, OData filtering and paging against the real database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import type { DirectoryObject } from '../../src/directory/graph-objects.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture, rejectsWith } from './directory-fixture.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc0Yv8dEu9ciNKTuS2RX1ExLZXb6FKkAZ3EqjOc0dmU bob@laptop';
const ids = (objects: { id?: string }[]) => objects.map((o) => o.id).sort();

for (const engine of engines) {
  describe(`directory: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      admin = d.directory.system();
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    const newUser = (name: string, extra: Record<string, unknown> = {}) =>
      admin.users().create({ userPrincipalName: `${name}@example.test`, displayName: `User ${name}`, ...extra });

    describe('users and POSIX ids', () => {
      it('allocates unique uid numbers from 10000 with a private group, also under concurrency', async () => {
        const users = await Promise.all(Array.from({ length: 20 }, (_, i) => newUser(`posix${i}`)));
        const uids = users.map((u) => u.keyhavenPosix.uidNumber!);
        assert.equal(new Set(uids).size, 20);
        assert.ok(uids.every((n) => n >= 10000));
        for (const u of users) assert.equal(u.keyhavenPosix.gidNumber, u.keyhavenPosix.uidNumber);
        assert.equal(users[0]!.keyhavenPosix.homeDirectory, '/home/posix0');
        assert.equal(users[0]!.keyhavenPosix.loginShell, '/bin/bash');
        // Groups draw from the same range, so a group never takes a user's private gid.
        const group = await admin.groups().create({ displayName: 'Range', mailNickname: 'range-group' });
        assert.ok(!uids.includes(group.keyhavenPosix.gidNumber!));
        assert.ok(group.keyhavenPosix.gidNumber! > Math.max(...uids));
      });

      it('honours an explicit uidNumber, refuses a taken one, and allocates above it', async () => {
        const high = await newUser('highuid', { keyhavenPosix: { uidNumber: 50000 } });
        assert.equal(high.keyhavenPosix.uidNumber, 50000);
        await rejectsWith(newUser('clash', { keyhavenPosix: { uidNumber: 50000 } }), 'KH_POSIX_ID_TAKEN');
        await rejectsWith(newUser('lowuid', { keyhavenPosix: { uidNumber: 0 } }), 'KH_POSIX_ID_INVALID');
        assert.equal((await newUser('afterhigh')).keyhavenPosix.uidNumber, 50001);
        const rows = await fx.exec('select uid_number from users where uid_number is not null');
        assert.equal(new Set(rows.map((r) => Number(r.uid_number))).size, rows.length);
      });

      it('validates names: UPN syntax, POSIX-safe short names, system names', async () => {
        await rejectsWith(newUser('bad..dots'), 'KH_UPN_INVALID');
        await rejectsWith(admin.users().create({ userPrincipalName: 'no-at-sign', displayName: 'x' }), 'KH_UPN_INVALID');
        await rejectsWith(newUser('1starts-with-digit'), 'KH_USER_NAME_INVALID');
        await rejectsWith(newUser('root'), 'KH_USER_NAME_RESERVED');
        await rejectsWith(newUser('okname', { mailNickname: 'has space' }), 'KH_USER_NAME_INVALID');
        await rejectsWith(newUser('shell', { keyhavenPosix: { loginShell: 'bash; rm -rf /' } }), 'KH_ATTRIBUTE_INVALID');
        await rejectsWith(newUser('home', { keyhavenPosix: { homeDirectory: '/home/../etc' } }), 'KH_ATTRIBUTE_INVALID');
        await rejectsWith(newUser('weak', { password: 'password1234' }), 'KH_PASSWORD_COMMON');
        // The short name defaults to the UPN's local part, lower-cased.
        const mixed = await admin.users().create({ userPrincipalName: 'Mixed.Case@Example.test', displayName: 'Mixed' });
        assert.equal(mixed.onPremisesSamAccountName, 'mixed.case');
        assert.equal(mixed.mailNickname, 'mixed.case');
      });

      it('keeps UPN and short name unique (UPN ignoring case) and finds users by id, UPN or short name', async () => {
        const alice = await newUser('alice', { password: GOOD_PASSWORD, givenName: 'Alice', surname: 'Example' });
        await rejectsWith(admin.users().create({ userPrincipalName: 'ALICE@example.test', displayName: 'Dup', mailNickname: 'alice2' }), 'KH_UPN_TAKEN');
        await rejectsWith(admin.users().create({ userPrincipalName: 'alice2@example.test', displayName: 'Dup', mailNickname: 'alice' }), 'KH_USER_NAME_TAKEN');
        const reader = admin.reader();
        assert.equal((await reader.getUser(alice.id)).id, alice.id);
        assert.equal((await reader.getUser('Alice@Example.Test')).id, alice.id);
        assert.equal((await reader.getUser('alice')).id, alice.id);
        await rejectsWith(reader.getUser('nobody-here'), 'KH_USER_NOT_FOUND');
        assert.equal(alice.lastPasswordChangeDateTime !== null, true);
        assert.equal(JSON.stringify(alice).includes('hash'), false);
      });

      it('updates with optimistic concurrency, validates the patch, refuses read-only properties', async () => {
        const bob = await newUser('bob');
        const v = Number(/"(\d+)"/.exec(bob['@odata.etag'])![1]);
        const updated = await admin.users().update(bob.id, { displayName: 'Bob Builder', keyhavenPosix: { loginShell: '/bin/zsh', sshPublicKeys: [ED25519] } }, v);
        assert.equal(updated.displayName, 'Bob Builder');
        assert.equal(updated.keyhavenPosix.loginShell, '/bin/zsh');
        assert.deepEqual(updated.keyhavenPosix.sshPublicKeys, [ED25519]);
        const stale = await rejectsWith(admin.users().update(bob.id, { displayName: 'Stale' }, v), 'KH_VERSION_MISMATCH');
        assert.equal(stale.status, 412);
        await rejectsWith(admin.users().update(bob.id, { id: 'x' } as never), 'KH_ATTRIBUTE_INVALID');
        await rejectsWith(admin.users().update(bob.id, { keyhavenPosix: { sshPublicKeys: ['command="rm -rf /" ' + ED25519] } }), 'KH_SSH_KEY_INVALID');
        await rejectsWith(admin.users().update(bob.id, { keyhavenExtraAttributes: { userPassword: ['{SSHA}x'] } }), 'KH_EXTRA_ATTRIBUTES_INVALID');
        const extra = await admin.users().update(bob.id, { keyhavenExtraAttributes: { employeeNumber: ['42'], jpegPhoto: [{ base64: 'AAEC' }] } });
        assert.deepEqual(extra.keyhavenExtraAttributes, { employeeNumber: ['42'], jpegPhoto: [{ base64: 'AAEC' }] });
      });
    });

    describe('groups and nested membership', () => {
      let a: string, b: string, c: string, dd: string, u1: string, u2: string, sp: string;

      before(async () => {
        const g = admin.groups();
        const groups = await Promise.all(['outer', 'middle', 'inner', 'side'].map((n) => g.create({ displayName: n, mailNickname: `nest-${n}` })));
        [a, b, c, dd] = groups.map((x) => x.id) as [string, string, string, string];
        [u1, u2] = (await Promise.all([newUser('member1'), newUser('member2')])).map((x) => x.id) as [string, string];
        sp = (await admin.applications().create({ displayName: 'nested-app', withServicePrincipal: true })).servicePrincipal!.id;
        // outer ⊃ middle ⊃ inner ⊃ member1;  outer ⊃ side ⊃ inner (a diamond);  outer ⊃ member2;  middle ⊃ sp
        await g.addMember(a!, b!);
        await g.addMember(b!, c!);
        await g.addMember(c!, u1!);
        await g.addMember(a!, dd!);
        await g.addMember(dd!, c!);
        await g.addMember(a!, u2!);
        await g.addMember(b!, sp!);
      });

      it('lists direct and transitive members, each once even through a diamond', async () => {
        const r = admin.reader();
        assert.deepEqual(ids((await r.members(a!)).value), [b!, dd!, u2!].sort());
        const transitive = (await r.transitiveMembers(a!)).value;
        assert.deepEqual(ids(transitive), [b!, c!, dd!, u1!, u2!, sp!].sort());
        const types = Object.fromEntries(transitive.map((o: DirectoryObject) => [o.id, o['@odata.type']]));
        assert.equal(types[u1!], '#microsoft.graph.user');
        assert.equal(types[c!], '#microsoft.graph.group');
        assert.equal(types[sp!], '#microsoft.graph.servicePrincipal');
      });

      it('answers memberOf directly and transitively, for users and service principals', async () => {
        const r = admin.reader();
        assert.deepEqual(ids((await r.memberOf(u1!)).value), [c!]);
        assert.deepEqual(ids((await r.transitiveMemberOf(u1!)).value), [a!, b!, c!, dd!].sort());
        assert.deepEqual(ids((await r.transitiveMemberOf(sp!)).value), [a!, b!].sort());
        assert.deepEqual((await r.checkMemberGroups(u1!, [a!, b!, u2!])).sort(), [a!, b!].sort());
        assert.deepEqual((await d.directory.transitiveGroupIds(u1!)).sort(), [a!, b!, c!, dd!].sort());
      });

      it('refuses cycles, self-membership and duplicates', async () => {
        const g = admin.groups();
        await rejectsWith(g.addMember(c!, a!), 'KH_GROUP_CYCLE');
        await rejectsWith(g.addMember(c!, b!), 'KH_GROUP_CYCLE');
        await rejectsWith(g.addMember(a!, a!), 'KH_GROUP_CYCLE');
        const dup = await rejectsWith(g.addMember(a!, b!), 'KH_MEMBER_EXISTS');
        assert.match(dup.message, /added object references already exist/);
        await rejectsWith(g.addMember(a!, '00000000-0000-4000-8000-000000000000'), 'KH_MEMBER_NOT_FOUND');
        await rejectsWith(g.removeMember(a!, u1!), 'KH_MEMBER_NOT_FOUND');
      });

      it('pages members with an opaque, checked skip token', async () => {
        const r = admin.reader();
        const first = await r.transitiveMembers(a!, { top: 4 });
        assert.equal(first.value.length, 4);
        assert.ok(first.nextSkipToken);
        const second = await r.transitiveMembers(a!, { top: 4, skipToken: first.nextSkipToken });
        assert.equal(second.value.length, 2);
        assert.equal(second.nextSkipToken, undefined);
        assert.deepEqual(ids([...first.value, ...second.value]), [b!, c!, dd!, u1!, u2!, sp!].sort());
        await rejectsWith(r.transitiveMembers(a!, { skipToken: "x' or '1'='1" }), 'KH_ODATA_SKIPTOKEN_INVALID');
        const forged = Buffer.from(JSON.stringify(['i', "' or 1=1 --"])).toString('base64url');
        await rejectsWith(r.transitiveMembers(a!, { skipToken: forged }), 'KH_ODATA_SKIPTOKEN_INVALID');
      });

      it('keeps group names unique ignoring case and refuses privileged system group names', async () => {
        await rejectsWith(admin.groups().create({ displayName: 'x', mailNickname: 'NEST-OUTER' }), 'KH_GROUP_NAME_TAKEN');
        await rejectsWith(admin.groups().create({ displayName: 'x', mailNickname: 'sudo' }), 'KH_GROUP_NAME_RESERVED');
        await rejectsWith(admin.groups().create({ displayName: 'x', mailNickname: 'Wheel' }), 'KH_GROUP_NAME_RESERVED');
        await rejectsWith(admin.groups().create({ displayName: 'x', mailNickname: 'mail', mailEnabled: true }), 'KH_ATTRIBUTE_INVALID');
        assert.equal((await admin.reader().getGroup('Nest-Outer')).id, a!);
      });

      it('deleting a user or group removes its memberships', async () => {
        const g = admin.groups();
        const temp = await g.create({ displayName: 'temp', mailNickname: 'nest-temp' });
        const tu = await newUser('tempmember');
        await g.addMember(temp.id, tu.id);
        await g.addMember(a!, temp.id);
        await admin.users().delete(tu.id);
        assert.deepEqual((await admin.reader().members(temp.id)).value, []);
        await g.delete(temp.id);
        assert.ok(!ids((await admin.reader().members(a!)).value).includes(temp.id));
        const rows = await fx.exec('select count(*) as n from group_members where member_id = $1'.replace('$1', fx.name === 'sqlite' ? '?' : '$1'), [temp.id]);
        assert.equal(Number(rows[0]!.n), 0);
      });
    });

    describe('OData filtering and paging on the database', () => {
      before(async () => {
        for (let i = 0; i < 7; i++) await newUser(`data${i}`, { givenName: i % 2 ? 'Ann' : 'Ben', accountEnabled: i !== 3 });
        await newUser('percent', { displayName: '100% sure_thing' });
      });

      it('filters with eq, startswith, and/or, booleans and null, ignoring case', async () => {
        const r = admin.reader();
        const names = async (filter: string) => (await r.listUsers({ filter, select: 'mailNickname' })).value.map((u) => u.mailNickname).sort();
        assert.deepEqual(await names("startswith(mailNickname,'DATA')"), ['data0', 'data1', 'data2', 'data3', 'data4', 'data5', 'data6']);
        assert.deepEqual(await names("startswith(mailNickname,'data') and givenName eq 'ann'"), ['data1', 'data3', 'data5']);
        assert.deepEqual(await names("(mailNickname eq 'data0' or mailNickname eq 'data6') and accountEnabled eq true"), ['data0', 'data6']);
        assert.deepEqual(await names("startswith(mailNickname,'data') and accountEnabled eq false"), ['data3']);
        assert.deepEqual(await names("givenName eq 'Ben' and surname eq null and startswith(mailNickname,'data')"), ['data0', 'data2', 'data4', 'data6']);
        assert.deepEqual(await names("mailNickname in ('data1','DATA2','nobody')"), ['data1', 'data2']);
        assert.deepEqual(await names("keyhavenPosix/uidNumber eq 50000"), ['highuid']);
        // LIKE wildcards in a startswith prefix are literal.
        assert.deepEqual(await names("startswith(displayName,'100%')"), ['percent']);
        assert.deepEqual(await names("startswith(displayName,'1_0')"), []);
      });

      it('treats injection attempts as data or refuses them', async () => {
        const r = admin.reader();
        assert.deepEqual((await r.listUsers({ filter: "displayName eq 'x'' or ''1''=''1'" })).value, []);
        assert.deepEqual((await r.listUsers({ filter: "mailNickname eq 'data1''); drop table users; --'" })).value, []);
        await rejectsWith(r.listUsers({ filter: "displayName eq 'x' or 1 eq 1" }), 'KH_ODATA_FILTER_INVALID');
        await rejectsWith(r.listUsers({ filter: 'passwordHash eq null' }), 'KH_ODATA_FILTER_INVALID');
        await rejectsWith(r.listUsers({ filter: 'keyhavenPosix/uidNumber eq 99999999999' }), 'KH_ODATA_FILTER_INVALID');
        assert.ok((await d.storage.read.users.count()) > 10, 'users table intact');
      });

      it('pages in creation order with $top and a skip token, honouring $select', async () => {
        const r = admin.reader();
        const seen: string[] = [];
        let skipToken: string | undefined;
        let pages = 0;
        do {
          const page = await r.listUsers({ filter: "startswith(mailNickname,'data')", top: 3, select: ['id', 'mailNickname'], skipToken });
          for (const u of page.value) {
            assert.deepEqual(Object.keys(u).sort(), ['@odata.etag', 'id', 'mailNickname']);
            seen.push(u.mailNickname!);
          }
          skipToken = page.nextSkipToken;
          pages++;
        } while (skipToken);
        assert.equal(pages, 3);
        assert.deepEqual(seen, ['data0', 'data1', 'data2', 'data3', 'data4', 'data5', 'data6']);
        await rejectsWith(r.listUsers({ top: 1000 }), 'KH_ODATA_TOP_INVALID');
        await rejectsWith(r.listUsers({ top: '0' }), 'KH_ODATA_TOP_INVALID');
        await rejectsWith(r.listUsers({ select: 'passwordHash' }), 'KH_ODATA_SELECT_INVALID');
      });
    });
  });
}

