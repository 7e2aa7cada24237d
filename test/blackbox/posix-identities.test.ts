// POSIX identities as an SSSD or nslcd client finds them (issue 8, items 6 and 7). Users and
// groups are made only through the `keyhaven` CLI (`ad user create|update` with the POSIX
// flags, `ad group create|update --gid-number`), then looked up with OpenLDAP's ldapsearch
// the way sssd's ldap provider and nslcd do it: getpwnam `(&(objectClass=posixAccount)(uid=x))`,
// getgrgid `(&(objectClass=posixGroup)(gidNumber=N))` for the user's gidNumber, initgroups
// `(&(objectClass=posixGroup)(memberUid=x))`, getgrnam `(&(objectClass=posixGroup)(cn=x))`.
// Every user's gidNumber names a group (a real one, or the user's private group); the
// bootstrap admin is no posixAccount until it is given POSIX attributes. Reserved group
// names are refused by the CLI (API), the LDIF import (whole import), with the setting named;
// `staff` is accepted by all three; a second server with other settings admits what they say.
// SQLite, or PostgreSQL with KEYHAVEN_TEST_STORAGE=postgres.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

const DOMAIN = 'lab.example';
const BASE = 'dc=lab,dc=example';
const PASSWORD = 'Lichen-on-granite-7731';
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc0Yv8dEu9ciNKTuS2RX1ExLZXb6FKkAZ3EqjOc0dmU bob@laptop';

type Entry = Map<string, string[]>;
type Result = Awaited<ReturnType<typeof runCli>>;

/** ldapsearch -LLL output: DN → attribute (lower-cased) → values (base64 values decoded). */
function parseEntries(ldif: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const block of ldif.replace(/\n /g, '').split(/\n\n+/)) {
    let dn: string | undefined;
    const attrs: Entry = new Map();
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z0-9;-]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
      if (m[1]!.toLowerCase() === 'dn') dn = value;
      else attrs.set(m[1]!.toLowerCase(), [...(attrs.get(m[1]!.toLowerCase()) ?? []), value]);
    }
    if (dn !== undefined) out.set(dn, attrs);
  }
  return out;
}

function ok(r: Result): Result {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function json<T = Record<string, unknown>>(r: Result): T {
  return JSON.parse(ok(r).stdout) as T;
}

function refused(r: Result, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^ERROR: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
}

interface Posix { uidNumber: number | null; gidNumber: number | null; homeDirectory: string | null; loginShell: string | null; sshPublicKeys: string[] }

/** A server, an admin logged in through the CLI, and SSSD-style lookups against it. */
async function startLab(home: string, storageUrl: string, args: string[] = []) {
  const server = await startServerProcess({ home, storage: storageUrl, args: ['--directory-domain', DOMAIN, ...args] });
  const configDir = join(mkdtempSync(join(tmpdir(), 'kh-posix-')), 'config');
  const kh = (...a: string[]) => runCli(a, { env: { KEYHAVEN_CONFIG_DIR: configDir } });
  const adminPassword = readFileSync(join(home, 'admin-password'), 'utf8').trim();
  ok(await kh('login', '--server', server.url, '--username', 'admin', '--password', adminPassword));
  const createUser = (name: string, ...flags: string[]) =>
    kh('ad', 'user', 'create', '--display-name', `User ${name}`, '--user-principal-name', `${name}@${DOMAIN}`, '--password', PASSWORD, ...flags);
  /** A search as SSSD makes it: bound (as a directory user, here the admin) over StartTLS. */
  const search = async (filter: string, ...attrs: string[]) => {
    const r = await ldapTool('ldapsearch', [
      '-x', '-ZZ', '-H', `ldap://localhost:${server.ldapPort}`, '-D', `uid=admin,ou=people,${BASE}`, '-w', adminPassword,
      '-LLL', '-o', 'ldif-wrap=no', '-b', BASE, filter, ...attrs,
    ]);
    assert.equal(r.code, 0, `${filter}: ${r.stderr}`);
    return parseEntries(r.stdout);
  };
  const stop = async () => {
    await server.stop();
    rmSync(join(configDir, '..'), { recursive: true, force: true });
  };
  return { server, kh, createUser, search, stop };
}

describe('POSIX identities through the CLI, as SSSD sees them', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let lab: Awaited<ReturnType<typeof startLab>>;
  const posixOf = new Map<string, Posix>();

  before(async () => {
    storage = await blackboxStorage(home);
    lab = await startLab(home, storage.url);
  });
  after(async () => {
    await lab?.stop();
    await storage?.drop();
    remove();
  });

  it('the bootstrap admin is no posixAccount, and its UPN follows directoryDomain', async () => {
    const admin = json<{ userPrincipalName: string; keyhavenPosix: Posix }>(await lab.kh('ad', 'user', 'show', '--id', 'admin'));
    assert.equal(admin.userPrincipalName, `admin@${DOMAIN}`);
    assert.deepEqual(admin.keyhavenPosix, { uidNumber: null, gidNumber: null, homeDirectory: null, loginShell: null, sshPublicKeys: [] });
    // Nor does export-ldif write it as one (posixAccount without uidNumber would break slapadd).
    const out = join(home, 'export.ldif');
    ok(await runCli(['directory', 'export-ldif', '--home', home, '--storage', storage.url, '--directory-domain', DOMAIN, '--output-file', out]));
    const exported = parseEntries(readFileSync(out, 'utf8')).get(`uid=admin,ou=people,${BASE}`);
    assert.ok(exported, 'admin is exported');
    assert.ok(!exported.get('objectclass')!.includes('posixAccount'), exported.get('objectclass')!.join());
    assert.equal(exported.get('uidnumber'), undefined);
  });

  it('the LDIF import refuses a reserved group name (nothing imported), naming the setting; staff imports', async () => {
    const store = ['--home', home, '--storage', storage.url];
    const ldif = (group: string) => [
      `dn: cn=${group},ou=Group,${BASE}`, 'objectClass: posixGroup', `cn: ${group}`, 'gidNumber: 7001', 'memberUid: erin', '',
      `dn: uid=erin,ou=People,${BASE}`, 'objectClass: inetOrgPerson', 'objectClass: posixAccount', 'uid: erin', 'cn: Erin',
      'sn: Erin', 'uidNumber: 7001', 'gidNumber: 7001', 'homeDirectory: /home/erin', '',
    ].join('\n');
    const file = join(home, 'reserved.ldif');
    writeFileSync(file, ldif('wheel'));
    const refusedImport = await runCli(['directory', 'import-ldif', file, ...store]);
    assert.equal(refusedImport.code, 1, refusedImport.stderr);
    assert.match(refusedImport.stderr, /'wheel' is a reserved group name.*reservedGroupNames/);
    assert.equal((await lab.search('(uid=erin)')).size, 0);

    const staffFile = join(home, 'staff.ldif');
    writeFileSync(staffFile, ldif('staff'));
    ok(await runCli(['directory', 'import-ldif', staffFile, ...store]));
    const erin = await lab.search('(&(objectClass=posixGroup)(memberUid=erin))', 'cn');
    assert.deepEqual([...erin.values()].map((e) => e.get('cn')![0]), ['staff']);
    // Out of the way of the CLI's own staff below: erin first — staff is her primary group,
    // which may not go while she has it.
    refused(await lab.kh('ad', 'group', 'delete', '--group', 'staff'), /primary group \(gidNumber 7001\) of erin/);
    ok(await lab.kh('ad', 'user', 'delete', '--id', 'erin'));
    ok(await lab.kh('ad', 'group', 'delete', '--group', 'staff'));
  });

  it('the Graph API refuses reserved names in its own error format, naming the setting, and accepts staff', async () => {
    const token = json<{ accessToken: string }>(await lab.kh('account', 'get-access-token', '--resource', `${lab.server.url}/graph/`)).accessToken;
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${lab.server.url}/graph/v1.0${path}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string; message: string } } };
    };
    const group = (name: string) => post('/groups', { displayName: name, mailNickname: name, mailEnabled: false, securityEnabled: true });
    for (const name of ['root', 'ADM', 'kvm', 'systemd-resolve']) {
      const r = await group(name);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error?.code, 'Request_BadRequest');
      assert.match(r.body.error!.message, /reserved group name.*reservedGroupNames \(KEYHAVEN_RESERVED_GROUP_NAMES\)/);
    }
    const user = await post('/users', {
      accountEnabled: true, displayName: 'lxd', userPrincipalName: `lxd@${DOMAIN}`, passwordProfile: { password: PASSWORD },
    });
    assert.equal(user.status, 400, JSON.stringify(user.body));
    assert.match(user.body.error!.message, /private group/);
    const staff = await group('staff');
    assert.equal(staff.status, 201, JSON.stringify(staff.body));
    ok(await lab.kh('ad', 'group', 'delete', '--group', staff.body.id!));
  });

  it('creates users and groups with the POSIX flags; refuses reserved names naming the setting; staff is accepted', async () => {
    const staff = json<{ id: string; keyhavenPosix: { gidNumber: number } }>(
      await lab.kh('ad', 'group', 'create', '--display-name', 'Staff', '--mail-nickname', 'staff', '--gid-number', '5000'),
    );
    assert.equal(staff.keyhavenPosix.gidNumber, 5000);
    const labGroup = json<{ keyhavenPosix: { gidNumber: number } }>(await lab.kh('ad', 'group', 'create', '--display-name', 'Lab', '--mail-nickname', 'lab'));
    const moved = json<{ keyhavenPosix: { gidNumber: number } }>(await lab.kh('ad', 'group', 'update', '--group', 'Lab', '--gid-number', '5100'));
    assert.notEqual(labGroup.keyhavenPosix.gidNumber, 5100);
    assert.equal(moved.keyhavenPosix.gidNumber, 5100);

    for (const name of ['sudo', 'wheel', 'docker']) {
      refused(await lab.kh('ad', 'group', 'create', '--display-name', name, '--mail-nickname', name), /reserved group name.*reservedGroupNames/);
    }
    refused(await lab.kh('ad', 'group', 'update', '--group', 'Lab', '--mail-nickname', 'wheel'), /reservedGroupNames/);
    // A user named as a reserved group would get a private group of that name.
    refused(await lab.createUser('docker'), /private group.*reservedGroupNames/);

    const users: [string, string[]][] = [
      ['ada', []],
      ['bob', ['--uid-number', '20001', '--primary-group', 'staff', '--home-directory', '/srv/bob', '--login-shell', '/bin/zsh', '--ssh-public-key', ED25519]],
      ['carol', ['--gid-number', '5000']],
      ['dan', []],
    ];
    for (const [name, flags] of users) {
      const u = json<{ keyhavenPosix: Posix }>(await lab.createUser(name, ...flags));
      posixOf.set(name, u.keyhavenPosix);
    }
    assert.deepEqual(posixOf.get('bob'), { uidNumber: 20001, gidNumber: 5000, homeDirectory: '/srv/bob', loginShell: '/bin/zsh', sshPublicKeys: [ED25519] });
    assert.equal(posixOf.get('carol')!.gidNumber, 5000);
    assert.equal(posixOf.get('ada')!.gidNumber, posixOf.get('ada')!.uidNumber);
    assert.equal(posixOf.get('ada')!.loginShell, '/bin/bash');

    // update: the keys from a .pub file, another shell and home; a bad value is the server's error.
    const dir = mkdtempSync(join(tmpdir(), 'kh-keys-'));
    writeFileSync(join(dir, 'id.pub'), `${ED25519.replace('bob@laptop', 'dan@one')}\n${ED25519.replace('bob@laptop', 'dan@two')}\n`);
    ok(await lab.kh('ad', 'user', 'update', '--id', `dan@${DOMAIN}`, '--login-shell', '/bin/sh', '--home-directory', '/data/dan', '--ssh-public-key', `@${join(dir, 'id.pub')}`));
    rmSync(dir, { recursive: true, force: true });
    const dan = json<{ keyhavenPosix: Posix }>(await lab.kh('ad', 'user', 'show', '--id', `dan@${DOMAIN}`));
    assert.equal(dan.keyhavenPosix.loginShell, '/bin/sh');
    assert.equal(dan.keyhavenPosix.homeDirectory, '/data/dan');
    assert.deepEqual(dan.keyhavenPosix.sshPublicKeys.map((k) => k.split(' ')[2]), ['dan@one', 'dan@two']);
    posixOf.set('dan', dan.keyhavenPosix);
    refused(await lab.kh('ad', 'user', 'update', '--id', `dan@${DOMAIN}`, '--login-shell', 'bash'), /loginShell/);
    refused(await lab.kh('ad', 'user', 'update', '--id', `dan@${DOMAIN}`, '--primary-group', 'no-such-group'), /primaryGroup/);
    const usage = await lab.kh('ad', 'user', 'update', '--id', `dan@${DOMAIN}`, '--uid-number', 'ten');
    assert.equal(usage.code, 2, usage.stderr);
  });

  it('getpwnam, getgrgid and initgroups as SSSD does them: every user\'s gidNumber names a group', async () => {
    for (const [name, posix] of posixOf) {
      const pw = await lab.search(`(&(objectClass=posixAccount)(uid=${name}))`);
      assert.equal(pw.size, 1, name);
      const user = [...pw.values()][0]!;
      assert.deepEqual(user.get('uidnumber'), [String(posix.uidNumber)]);
      assert.deepEqual(user.get('gidnumber'), [String(posix.gidNumber)]);
      assert.deepEqual(user.get('homedirectory'), [posix.homeDirectory]);
      assert.deepEqual(user.get('loginshell'), [posix.loginShell]);
      assert.deepEqual(user.get('sshpublickey') ?? [], posix.sshPublicKeys);

      const gr = await lab.search(`(&(objectClass=posixGroup)(gidNumber=${posix.gidNumber}))`);
      assert.equal(gr.size, 1, `${name}: one group for gid ${posix.gidNumber}: ${[...gr.keys()]}`);
      const [groupDn, group] = [...gr.entries()][0]!;
      assert.ok(group.get('cn')?.[0], `${name}: the group has a name`);
      assert.ok(group.get('objectclass')!.includes('posixGroup'));
      const initgroups = await lab.search(`(&(objectClass=posixGroup)(memberUid=${name}))`, 'cn', 'gidNumber');
      if (['ada', 'dan'].includes(name)) {
        // Their private group: named as the user, gid = uid, the user its one memberUid.
        assert.equal(groupDn, `cn=${name},ou=groups,${BASE}`);
        assert.deepEqual(group.get('cn'), [name]);
        assert.deepEqual(group.get('memberuid'), [name]);
        assert.ok(initgroups.has(groupDn), `${name} is a memberUid of their private group`);
        const byName = await lab.search(`(&(objectClass=posixGroup)(cn=${name}))`);
        assert.deepEqual([...byName.keys()], [groupDn]);
      } else {
        assert.deepEqual(group.get('cn'), ['staff']);
        assert.ok(!initgroups.has(`cn=${name},ou=groups,${BASE}`), `${name} has a primary group: no private one`);
      }
    }
    // A base search on a private group's DN (sssd reads group DNs back) and a subtree sweep.
    const base = await ldapTool('ldapsearch', ['-x', '-ZZ', '-H', `ldap://localhost:${lab.server.ldapPort}`, '-D', `uid=ada,ou=people,${BASE}`, '-w', PASSWORD,
      '-LLL', '-b', `cn=ada,ou=groups,${BASE}`, '-s', 'base', '(objectClass=*)', 'gidNumber']);
    assert.equal(base.code, 0, base.stderr);
    assert.match(base.stdout, new RegExp(`gidNumber: ${posixOf.get('ada')!.uidNumber}`));
    const all = await lab.search('(objectClass=posixGroup)', 'cn');
    const names = [...all.values()].map((e) => e.get('cn')![0]).sort();
    assert.deepEqual(names, ['ada', 'dan', 'lab', 'staff']);
    // Nothing else answers as a private group: no group for a gid nobody has, none for bob.
    assert.equal((await lab.search('(&(objectClass=posixGroup)(gidNumber=4242))')).size, 0);
    assert.equal((await lab.search('(&(objectClass=posixGroup)(cn=bob))')).size, 0);
    assert.equal((await lab.search('(&(objectClass=groupOfNames)(cn=ada))')).size, 0);

    // staff is bob's and carol's primary group: deleting it, or moving its gidNumber, would leave
    // their gidNumber naming no group (Active Directory refuses the same for a primary group).
    refused(await lab.kh('ad', 'group', 'delete', '--group', 'staff'), /primary group \(gidNumber 5000\) of bob, carol/);
    refused(await lab.kh('ad', 'group', 'update', '--group', 'staff', '--gid-number', '5001'), /primary group \(gidNumber 5000\)/);
    assert.equal((await lab.search('(&(objectClass=posixGroup)(gidNumber=5000))')).size, 1, 'nothing changed');
    // Lab is nobody's primary group: it goes.
    ok(await lab.kh('ad', 'group', 'delete', '--group', 'Lab'));
    assert.equal((await lab.search('(&(objectClass=posixGroup)(cn=lab))')).size, 0);
  });

  it('the bootstrap admin is a login account only once given POSIX attributes', async () => {
    assert.equal((await lab.search('(&(objectClass=posixAccount)(uid=admin))')).size, 0);
    const plain = [...(await lab.search('(uid=admin)')).values()];
    assert.equal(plain.length, 1);
    assert.ok(!plain[0]!.get('objectclass')!.includes('posixAccount'));
    assert.equal(plain[0]!.get('uidnumber'), undefined);
    assert.equal(plain[0]!.get('loginshell'), undefined);
    assert.deepEqual(plain[0]!.get('userprincipalname'), [`admin@${DOMAIN}`]);

    ok(await lab.kh('ad', 'user', 'update', '--id', 'admin', '--primary-group', 'staff'));
    const posix = [...(await lab.search('(&(objectClass=posixAccount)(uid=admin))')).values()];
    assert.equal(posix.length, 1);
    assert.deepEqual(posix[0]!.get('gidnumber'), ['5000']);
    assert.deepEqual(posix[0]!.get('homedirectory'), ['/home/admin']);
    assert.deepEqual(posix[0]!.get('loginshell'), ['/bin/bash']);
    assert.ok(Number(posix[0]!.get('uidnumber')![0]) >= 10000);
  });

});

describe('POSIX identities with other settings', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let lab: Awaited<ReturnType<typeof startLab>>;

  before(async () => {
    storage = await blackboxStorage(home);
    lab = await startLab(home, storage.url, ['--reserved-group-names', 'root,wheel,lab-*', '--user-private-groups', 'false']);
  });
  after(async () => {
    await lab?.stop();
    await storage?.drop();
    remove();
  });

  it('reservedGroupNames admits what it no longer lists and refuses what it adds; no private groups when off', async () => {
    ok(await lab.kh('ad', 'group', 'create', '--display-name', 'sudo', '--mail-nickname', 'sudo'));
    refused(await lab.kh('ad', 'group', 'create', '--display-name', 'lab admins', '--mail-nickname', 'lab-admins'), /reservedGroupNames/);
    const ada = json<{ keyhavenPosix: Posix }>(await lab.createUser('ada'));
    ok(await lab.createUser('docker'));
    assert.equal((await lab.search(`(&(objectClass=posixAccount)(uid=ada))`)).size, 1);
    assert.equal((await lab.search(`(&(objectClass=posixGroup)(gidNumber=${ada.keyhavenPosix.gidNumber}))`)).size, 0);
    assert.equal((await lab.search('(&(objectClass=posixGroup)(memberUid=ada))')).size, 0);
  });

  it('the import takes the setting too: a name the default refuses imports when the list admits it', async () => {
    const file = join(home, 'docker.ldif');
    writeFileSync(file, [`dn: cn=docker,ou=Group,${BASE}`, 'objectClass: posixGroup', 'cn: docker', 'gidNumber: 7100', ''].join('\n'));
    const store = ['directory', 'import-ldif', file, '--home', home, '--storage', storage.url];
    const byDefault = await runCli(store);
    assert.equal(byDefault.code, 1, byDefault.stderr);
    assert.match(byDefault.stderr, /'docker' is a reserved group name.*reservedGroupNames/);
    ok(await runCli(store, { env: { KEYHAVEN_RESERVED_GROUP_NAMES: 'root,wheel' } }));
    assert.equal((await lab.search('(&(objectClass=posixGroup)(cn=docker))')).size, 1);
  });
});
