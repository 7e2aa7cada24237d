// LDAP writes for administrators (issue 5, item 1: "unless the deployment enables them for
// admins"), driven by OpenLDAP's ldapadd, ldapmodify, ldapdelete and ldapmodrdn on a server
// started with `--ldap-admin-writes true`. The option off is ldap-clients.test.ts's refusal test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ldapTool as tool } from '../helpers/ldap-tools.js';
import { createUser, startGraphSuite, type GraphSuite } from './graph-test-client.js';

const BASE = 'dc=keyhaven,dc=local';
const userDn = (name: string) => `uid=${name},ou=people,${BASE}`;
const groupDn = (name: string) => `cn=${name},ou=groups,${BASE}`;

describe('LDAP admin writes (ldapAdminWrites on)', () => {
  let suite: GraphSuite;
  let plain: string;
  let admin: string[];
  const bobPassword = 'Maple-ldap-Passw0rd-1';
  const carolPassword = 'Birch-ldap-Passw0rd-7';

  const modify = (ldif: string, auth = admin) => tool('ldapmodify', [...auth], ldif);
  const search = (base: string, ...attrs: string[]) => tool('ldapsearch', [...admin, '-LLL', '-b', base, '-s', 'base', '(objectClass=*)', ...attrs]);
  const whoami = (dn: string, pw: string) => tool('ldapwhoami', ['-x', '-H', plain, '-D', dn, '-w', pw]);

  before(async () => {
    suite = await startGraphSuite({ args: ['--ldap-admin-writes', 'true'] });
    plain = `ldap://localhost:${suite.server.ldapPort}`;
    admin = ['-x', '-H', plain, '-D', userDn('admin'), '-w', suite.t.adminPassword];
    await createUser(suite, 'bob', bobPassword);
  });
  after(async () => {
    await suite?.stop();
  });

  it('ldapadd adds a user and a group; ldapmodify adds the user to the group (member and memberOf at once)', async () => {
    const user = await tool('ldapadd', admin, [
      `dn: ${userDn('carol')}`,
      'objectClass: inetOrgPerson',
      'objectClass: posixAccount',
      'uid: carol',
      'cn: Carol Example',
      'sn: Example',
      'givenName: Carol',
      'mail: carol@example.org',
      'loginShell: /bin/zsh',
      `userPassword: ${carolPassword}`,
      '',
    ].join('\n'));
    assert.equal(user.code, 0, user.stderr);
    assert.equal((await whoami(userDn('carol'), carolPassword)).code, 0);
    const group = await tool('ldapadd', admin, [`dn: ${groupDn('devs')}`, 'objectClass: groupOfNames', 'cn: devs', 'description: Developers', ''].join('\n'));
    assert.equal(group.code, 0, group.stderr);

    const add = await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'add: member', `member: ${userDn('carol')}`, ''].join('\n'));
    assert.equal(add.code, 0, add.stderr);
    const g = await search(groupDn('devs'), 'member', 'memberUid', 'description');
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, new RegExp(`^member: ${userDn('carol')}$`, 'mi'));
    assert.match(g.stdout, /^memberUid: carol$/m);
    assert.match(g.stdout, /^description: Developers$/m);
    const u = await search(userDn('carol'), 'memberOf', 'displayName', 'sn', 'loginShell');
    assert.match(u.stdout, new RegExp(`^memberOf: ${groupDn('devs')}$`, 'mi'));
    assert.match(u.stdout, /^displayName: Carol Example$/m);
    assert.match(u.stdout, /^sn: Example$/m);
    assert.match(u.stdout, /^loginShell: \/bin\/zsh$/m);

    // The same member again 20, removing a non-member 16, an unknown member DN 32.
    assert.equal((await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'add: member', `member: ${userDn('carol')}`, ''].join('\n'))).code, 20);
    assert.equal((await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'delete: member', `member: ${userDn('bob')}`, ''].join('\n'))).code, 16);
    assert.equal((await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'add: member', `member: ${userDn('nobody')}`, ''].join('\n'))).code, 32);
    // A group in itself is a cycle: constraintViolation.
    assert.equal((await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'add: member', `member: ${groupDn('devs')}`, ''].join('\n'))).code, 19);
  });

  it('ldapmodify changes mail and other attributes in one request; an unsupported attribute changes nothing', async () => {
    const r = await modify([
      `dn: ${userDn('carol')}`, 'changetype: modify',
      'replace: mail', 'mail: carol.new@example.org', '-',
      'replace: displayName', 'displayName: Carol New', '-',
      'delete: givenName', '-',
      '',
    ].join('\n'));
    assert.equal(r.code, 0, r.stderr);
    const u = await search(userDn('carol'), 'mail', 'displayName', 'givenName');
    assert.match(u.stdout, /^mail: carol\.new@example\.org$/m);
    assert.match(u.stdout, /^displayName: Carol New$/m);
    assert.doesNotMatch(u.stdout, /givenName/i);

    const bad = await modify([
      `dn: ${userDn('carol')}`, 'changetype: modify',
      'replace: mail', 'mail: never@example.org', '-',
      'replace: uidNumber', 'uidNumber: 4242', '-',
      '',
    ].join('\n'));
    assert.equal(bad.code, 53, bad.stderr);
    assert.match(bad.stderr, /uidNumber/);
    assert.match((await search(userDn('carol'), 'mail')).stdout, /^mail: carol\.new@example\.org$/m);
    assert.equal((await modify([`dn: ${userDn('nobody')}`, 'changetype: modify', 'replace: mail', 'mail: x@example.org', ''].join('\n'))).code, 32);
  });

  it('ldapmodify resets userPassword under the policy: the new one binds, the old one fails, a short one is refused (19)', async () => {
    const next = 'Walnut-ldap-Passw0rd-9';
    const r = await modify([`dn: ${userDn('carol')}`, 'changetype: modify', 'replace: userPassword', `userPassword: ${next}`, ''].join('\n'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await whoami(userDn('carol'), next)).code, 0);
    assert.equal((await whoami(userDn('carol'), carolPassword)).code, 49);
    const short = await modify([`dn: ${userDn('carol')}`, 'changetype: modify', 'replace: userPassword', 'userPassword: short1', ''].join('\n'));
    assert.equal(short.code, 19, short.stderr);
    assert.equal((await whoami(userDn('carol'), next)).code, 0);
    const noPassword = await tool('ldapadd', admin, [`dn: ${userDn('dave')}`, 'objectClass: inetOrgPerson', 'uid: dave', 'cn: Dave', 'sn: D', ''].join('\n'));
    assert.equal(noPassword.code, 65, noPassword.stderr);
    const weak = await tool('ldapadd', admin, [`dn: ${userDn('dave')}`, 'objectClass: inetOrgPerson', 'uid: dave', 'cn: Dave', 'sn: D', 'userPassword: short1', ''].join('\n'));
    assert.equal(weak.code, 19, weak.stderr);
  });

  it("a normal user's write is refused with insufficientAccessRights (50); modDN stays 53", async () => {
    const bob = ['-x', '-H', plain, '-D', userDn('bob'), '-w', bobPassword];
    assert.equal((await modify([`dn: ${userDn('carol')}`, 'changetype: modify', 'replace: mail', 'mail: evil@example.org', ''].join('\n'), bob)).code, 50);
    assert.equal((await modify([`dn: ${groupDn('devs')}`, 'changetype: modify', 'add: member', `member: ${userDn('bob')}`, ''].join('\n'), bob)).code, 50);
    assert.equal((await tool('ldapdelete', [...bob, userDn('carol')])).code, 50);
    assert.equal((await tool('ldapadd', bob, [`dn: ${userDn('eve')}`, 'objectClass: inetOrgPerson', 'uid: eve', 'cn: Eve', 'sn: E', `userPassword: ${carolPassword}x`, ''].join('\n'))).code, 50);
    assert.equal((await tool('ldapmodrdn', [...admin, userDn('carol'), 'uid=caroline'])).code, 53);
  });

  it('ldapdelete removes the user and the group', async () => {
    const r = await tool('ldapdelete', [...admin, userDn('carol'), groupDn('devs')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await search(userDn('carol'))).code, 32);
    assert.equal((await search(groupDn('devs'))).code, 32);
    assert.equal((await tool('ldapdelete', [...admin, userDn('carol')])).code, 32);
  });
});
