// User private groups as a pure function of a user (src/directory/private-groups.ts), and the
// reserved group names they are checked against (principal-names.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyhavenError } from '../../src/errors.js';
import { privateGroupId, privateGroupOf, type GroupNamespace, type PrivateGroupSubject } from '../../src/directory/private-groups.js';
import { checkGroupNickname, checkPrivateGroupName, DEFAULT_RESERVED_GROUP_NAMES, ReservedGroupNames } from '../../src/directory/principal-names.js';

const ALICE: PrivateGroupSubject = {
  id: '0f8fad5b-d9cb-469f-a165-70867728950e', mailNickname: 'alice', createdDateTime: '2026-01-02T03:04:05.000Z',
  keyhavenPosix: { uidNumber: 10001, gidNumber: 10001 },
};
const rules = { enabled: true, reservedGroups: new ReservedGroupNames() };
const noGroups: GroupNamespace = { hasGroupNamed: () => false, hasGroupWithGid: () => false };
const withUser = (over: Partial<PrivateGroupSubject['keyhavenPosix']> & { mailNickname?: string }): PrivateGroupSubject => ({
  ...ALICE, mailNickname: over.mailNickname ?? ALICE.mailNickname, keyhavenPosix: { ...ALICE.keyhavenPosix, ...over },
});

function refusedWith(fn: () => unknown, code: string): KeyhavenError {
  let caught: unknown;
  assert.throws(fn, (e) => { caught = e; return e instanceof KeyhavenError && e.code === code; });
  return caught as KeyhavenError;
}

describe('user private groups', () => {
  it('gives a POSIX user whose gid is their uid a group of their name, gid and one memberUid', () => {
    assert.deepEqual(privateGroupOf(ALICE, rules, noGroups), {
      id: privateGroupId(ALICE.id), userId: ALICE.id, name: 'alice', gidNumber: 10001, memberUid: 'alice', createdDateTime: ALICE.createdDateTime,
    });
  });

  it('gives none when off, to a non-POSIX user, to a user with another primary gid, or under a reserved name', () => {
    assert.equal(privateGroupOf(ALICE, { ...rules, enabled: false }, noGroups), undefined);
    assert.equal(privateGroupOf(withUser({ uidNumber: null, gidNumber: null }), rules, noGroups), undefined);
    assert.equal(privateGroupOf(withUser({ gidNumber: 5000 }), rules, noGroups), undefined);
    for (const name of ['sudo', 'docker', 'admin', 'systemd-network']) assert.equal(privateGroupOf(withUser({ mailNickname: name }), rules, noGroups), undefined, name);
  });

  it('gives none when a real group has the gid or the name (ignoring case)', () => {
    assert.equal(privateGroupOf(ALICE, rules, { ...noGroups, hasGroupWithGid: (g) => g === 10001 }), undefined);
    const named = new Set(['alice']);
    assert.equal(privateGroupOf(ALICE, rules, { ...noGroups, hasGroupNamed: (n) => named.has(n.toLowerCase()) }), undefined);
  });

  it('has a stable id of its own, a version-5 UUID unlike the user id', () => {
    const id = privateGroupId(ALICE.id);
    assert.equal(id, privateGroupId(ALICE.id.toUpperCase()));
    assert.notEqual(id, ALICE.id);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(id, privateGroupId('1f8fad5b-d9cb-469f-a165-70867728950e'));
  });
});

describe('reserved group names', () => {
  it('default: names that grant root are refused, staff and other common names are not', () => {
    for (const g of ['root', 'wheel', 'sudo', 'SUDO', 'admin', 'adm', 'docker', 'systemd-journal']) {
      const err = refusedWith(() => checkGroupNickname(g), 'KH_GROUP_NAME_RESERVED');
      assert.match(err.message, /reservedGroupNames \(KEYHAVEN_RESERVED_GROUP_NAMES\)/);
    }
    for (const g of ['staff', 'users', 'data-science', 'Staff', 'sudoers-team', 'dockerhub']) assert.equal(checkGroupNickname(g), g);
    assert.ok(!DEFAULT_RESERVED_GROUP_NAMES.includes('staff'));
  });

  it('a configured list replaces the default: exact names and prefix* patterns, ignoring case', () => {
    const reserved = new ReservedGroupNames(['wheel', 'Lab-*', ' ']);
    assert.equal(checkGroupNickname('sudo', reserved), 'sudo');
    refusedWith(() => checkGroupNickname('WHEEL', reserved), 'KH_GROUP_NAME_RESERVED');
    refusedWith(() => checkGroupNickname('lab-admins', reserved), 'KH_GROUP_NAME_RESERVED');
    assert.equal(checkGroupNickname('lab', reserved), 'lab');
    assert.equal(checkGroupNickname('x', new ReservedGroupNames([])), 'x');
  });

  it("a user's name is checked as their private group's", () => {
    const err = refusedWith(() => checkPrivateGroupName('docker', new ReservedGroupNames()), 'KH_USER_NAME_RESERVED');
    assert.match(err.message, /reservedGroupNames/);
    assert.match(err.message, /userPrivateGroups/);
    assert.equal(checkPrivateGroupName('alice', new ReservedGroupNames()), 'alice');
  });
});
