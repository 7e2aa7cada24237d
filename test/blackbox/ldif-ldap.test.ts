// Imported entries over LDAP under the DNs they came with (issue 5, item 5: "DNs kept as they
// were, so existing bind-DN templates keep working"): an LDIF with Active Directory DNs
// (`CN=Jane Doe,OU=Staff,DC=corp,DC=example`, sAMAccountName) and OpenLDAP DNs
// (`uid=alex,ou=people,dc=corp,dc=example`) is imported with the CLI into a server whose base
// DN (ldapBaseDn) covers them; then OpenLDAP's ldap-utils bind with the original DNs and
// passwords (legacy hashes, replaced by argon2id at that first bind), search with an original DN
// as the base, read group `member` values as the original DNs, and find nested members with
// `memberOf:1.2.840.113556.1.4.1941:=<original group DN>`. Plain loopback binds, LDAPS for
// the rest, the test CA trusted through LDAPTLS_CACERT. SQLite, or PostgreSQL with
// KEYHAVEN_TEST_STORAGE=postgres.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool as tool } from '../helpers/ldap-tools.js';
import { shaCryptHash } from '../../src/crypto/legacy-password-hash.js';
import { groupAttributes, parseLdif } from '../../src/directory/ldif/ldif-parser.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';


const BASE = 'dc=corp,dc=example';
const JANE = 'CN=Jane Doe,OU=Staff,DC=corp,DC=example';
const ALEX = 'uid=alex,ou=people,dc=corp,dc=example';
const ENGINEERS = 'CN=Engineers,OU=Groups,DC=corp,DC=example';
const DEVS = 'cn=devs,ou=groups,dc=corp,dc=example';
const JANE_PASSWORD = `Jane-${randomBytes(6).toString('hex')}`;
const ALEX_PASSWORD = `Alex-${randomBytes(6).toString('hex')}`;
const IN_CHAIN = '1.2.840.113556.1.4.1941';

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

function crypt6(password: string): string {
  const salt = randomBytes(12).toString('base64').replace(/[+=/]/g, '.').slice(0, 16);
  return `{CRYPT}$6$rounds=1000$${salt}$${shaCryptHash(true, Buffer.from(password), Buffer.from(salt), 1000)}`;
}

function ldif(): string {
  return [
    'version: 1',
    '',
    `dn: ${BASE}`, 'objectClass: top', 'objectClass: domain', 'dc: corp',
    '',
    'dn: OU=Staff,DC=corp,DC=example', 'objectClass: top', 'objectClass: organizationalUnit', 'ou: Staff',
    '',
    `dn: ${JANE}`,
    'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
    'cn: Jane Doe', 'sn: Doe', 'givenName: Jane', 'displayName: Jane Doe',
    'sAMAccountName: jdoe', 'userPrincipalName: jdoe@corp.example', 'userAccountControl: 512',
    'department: Research',
    `userPassword: ${ssha(JANE_PASSWORD)}`,
    '',
    `dn: ${ALEX}`,
    'objectClass: top', 'objectClass: inetOrgPerson', 'objectClass: posixAccount', 'objectClass: shadowAccount',
    'uid: alex', 'cn: Alex Smith', 'sn: Smith', 'uidNumber: 20001', 'gidNumber: 20001',
    'homeDirectory: /home/alex', 'loginShell: /bin/bash', 'shadowLastChange: 19000',
    `userPassword: ${crypt6(ALEX_PASSWORD)}`,
    '',
    `dn: ${DEVS}`, 'objectClass: top', 'objectClass: groupOfNames', 'cn: devs', `member: ${ALEX}`,
    '',
    // A member value spelled differently from the member's DN: still the same entry.
    `dn: ${ENGINEERS}`, 'objectClass: top', 'objectClass: group', 'cn: Engineers', 'sAMAccountName: engineers',
    'groupType: -2147483646', 'member: cn=jane doe, ou=staff, dc=corp, dc=example', `member: ${DEVS}`,
    '',
  ].join('\n');
}

/** `attr: value` lines of an ldapsearch -LLL output, per entry DN (lower-cased keys, values as printed). */
function entries(stdout: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z0-9;.-]+):(:?) ?(.*)$/.exec(line);
    if (!m) continue;
    const value = m[2] === ':' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
    if (m[1]!.toLowerCase() === 'dn') {
      current = new Map();
      out.set(value, current);
      continue;
    }
    const key = m[1]!.toLowerCase();
    current?.set(key, [...(current.get(key) ?? []), value]);
  }
  return out;
}

describe('LDIF-imported entries over LDAP under their original DNs', () => {
  let server: ServerProcess;
  let storage: { url: string; drop(): Promise<void> };
  let home: { home: string; remove(): void };
  let plain: string;
  let ldaps: string;
  const ldapEnv = { KEYHAVEN_LDAP_BASE_DN: BASE };
  const store = () => ['--home', server.home, '--storage', storage.url];
  const search = (...args: string[]) =>
    tool('ldapsearch', ['-x', '-H', ldaps, '-D', JANE, '-w', JANE_PASSWORD, '-LLL', '-o', 'ldif-wrap=no', ...args]);

  before(async () => {
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url, env: ldapEnv });
    plain = `ldap://localhost:${server.ldapPort}`;
    ldaps = `ldaps://localhost:${server.ldapsPort}`;
    const file = join(server.home, 'corp.ldif');
    writeFileSync(file, ldif());
    const r = await runCli(['directory', 'import-ldif', file, ...store(), '--password-scrypt-log-n', '10', '-o', 'json'], { env: ldapEnv });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { users: number; groups: number };
    assert.deepEqual([result.users, result.groups], [2, 2]);
  });

  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
  });

  it('ldapwhoami binds with the original DN (any case and spacing) and password; the legacy hash becomes argon2id', async () => {
    const exportHashes = async () => {
      const out = join(server.home, `hashes-${randomBytes(4).toString('hex')}.ldif`);
      const r = await runCli(['directory', 'export-ldif', ...store(), '--include-password-hashes', '--output-file', out], { env: ldapEnv });
      assert.equal(r.code, 0, r.stderr);
      return new Map(parseLdif(readFileSync(out)).map((e) => [e.dn.toLowerCase(), groupAttributes(e).get('userpassword')?.[0]?.value.toString()]));
    };
    const legacy = await exportHashes();
    assert.match(legacy.get(JANE.toLowerCase()) ?? '', /^\{SSHA\}/);
    assert.match(legacy.get(ALEX.toLowerCase()) ?? '', /^\{CRYPT\}\$6\$/);

    for (const [dn, password] of [[JANE, JANE_PASSWORD], [ALEX, ALEX_PASSWORD], ['cn=JANE DOE, ou=staff,dc=CORP, dc=example', JANE_PASSWORD]] as const) {
      const r = await tool('ldapwhoami', ['-x', '-H', plain, '-D', dn, '-w', password]);
      assert.equal(r.code, 0, `${dn}: ${r.stderr}`);
      // The identity is the entry's DN as imported, however the client spelled it.
      assert.equal(r.stdout.trim(), `dn:${dn === ALEX ? ALEX : JANE}`);
    }
    const wrong = await tool('ldapwhoami', ['-x', '-H', plain, '-D', JANE, '-w', 'not-the-password']);
    assert.equal(wrong.code, 49, wrong.stderr);
    const unknown = await tool('ldapwhoami', ['-x', '-H', plain, '-D', 'CN=Nobody,OU=Staff,DC=corp,DC=example', '-w', JANE_PASSWORD]);
    assert.equal(unknown.code, 49, unknown.stderr);

    const rehashed = await exportHashes();
    for (const dn of [JANE, ALEX]) assert.match(rehashed.get(dn.toLowerCase()) ?? '', /^\{ARGON2\}\$argon2id\$v=19\$/, dn);
    // And the original password still works against the new hash.
    assert.equal((await tool('ldapwhoami', ['-x', '-H', ldaps, '-D', ALEX, '-w', ALEX_PASSWORD])).code, 0);
  });

  it('ldapsearch with an original DN as the base returns the entry, its original object classes kept', async () => {
    const jane = await search('-b', JANE, '-s', 'base', '(objectClass=*)', '*', 'memberOf');
    assert.equal(jane.code, 0, jane.stderr);
    const e = entries(jane.stdout).get(JANE);
    assert.ok(e, jane.stdout);
    const classes = (e.get('objectclass') ?? []).map((c) => c.toLowerCase());
    for (const c of ['top', 'person', 'organizationalperson', 'user', 'inetorgperson', 'posixaccount']) assert.ok(classes.includes(c), `${c} in ${classes}`);
    assert.equal(classes.length, new Set(classes).size, 'no class twice');
    assert.deepEqual(e.get('samaccountname'), ['jdoe']);
    assert.deepEqual(e.get('department'), ['Research']);
    assert.deepEqual(e.get('memberof'), [ENGINEERS]);
    assert.equal(e.get('userpassword'), undefined);

    const alex = await search('-b', 'UID=Alex, OU=People, DC=corp, DC=example', '-s', 'base', '(objectClass=shadowAccount)', 'objectClass', 'uid', 'memberOf');
    assert.equal(alex.code, 0, alex.stderr);
    const a = entries(alex.stdout).get(ALEX);
    assert.ok(a, alex.stdout);
    assert.ok(a.get('objectclass')?.includes('shadowAccount'));
    assert.deepEqual(a.get('memberof'), [DEVS]);

    // The template's DN for an imported user names nothing: the entry has one DN.
    const template = await search('-b', `uid=jdoe,ou=people,${BASE}`, '-s', 'base', '(objectClass=*)');
    assert.equal(template.code, 32, template.stderr);
    const compare = await tool('ldapcompare', ['-x', '-H', ldaps, '-D', JANE, '-w', JANE_PASSWORD, JANE, 'sAMAccountName:jdoe']);
    assert.equal(compare.code, 6, compare.stderr);
  });

  it('a subtree holds exactly the entries whose DNs lie under it', async () => {
    const staff = await search('-b', 'OU=Staff,DC=corp,DC=example', '-s', 'sub', '(objectClass=*)', '1.1');
    assert.equal(staff.code, 0, staff.stderr);
    assert.deepEqual([...entries(staff.stdout).keys()].sort(), ['OU=Staff,DC=corp,DC=example', JANE].sort());
    const people = await search('-b', `ou=people,${BASE}`, '-s', 'one', '(objectClass=person)', '1.1');
    assert.equal(people.code, 0, people.stderr);
    const names = [...entries(people.stdout).keys()].map((d) => d.toLowerCase());
    assert.ok(names.includes(ALEX) && names.includes(`uid=admin,ou=people,${BASE}`), names.join(' | '));
    assert.ok(!names.includes(JANE.toLowerCase()), 'Jane lives under OU=Staff');
    const all = await search('-b', BASE, '(objectClass=person)', '1.1');
    assert.equal(all.code, 0, all.stderr);
    const everyone = [...entries(all.stdout).keys()];
    assert.ok(everyone.includes(JANE) && everyone.includes(ALEX), everyone.join(' | '));
    const nothing = await search('-b', `OU=Nowhere,${BASE}`, '(objectClass=*)', '1.1');
    assert.equal(nothing.code, 32, nothing.stderr);
  });

  it('group member values are the original DNs; member= and IN_CHAIN take them', async () => {
    const groups = await search('-b', BASE, '(|(cn=devs)(cn=Engineers))', 'member', 'memberUid', 'objectClass');
    assert.equal(groups.code, 0, groups.stderr);
    const found = entries(groups.stdout);
    assert.deepEqual(found.get(DEVS)?.get('member'), [ALEX]);
    assert.deepEqual(found.get(DEVS)?.get('memberuid'), ['alex']);
    assert.deepEqual(found.get(ENGINEERS)?.get('member')?.sort(), [JANE, DEVS].sort());
    assert.ok(found.get(ENGINEERS)?.get('objectclass')?.includes('group'));

    const byMember = await search('-b', BASE, `(member=${JANE.toLowerCase()})`, '1.1');
    assert.deepEqual([...entries(byMember.stdout).keys()], [ENGINEERS]);

    const nested = await search('-b', BASE, `(memberOf:${IN_CHAIN}:=${ENGINEERS})`, '1.1');
    assert.equal(nested.code, 0, nested.stderr);
    assert.deepEqual([...entries(nested.stdout).keys()].sort(), [JANE, ALEX, DEVS].sort());
    const direct = await search('-b', BASE, `(memberOf=${ENGINEERS})`, '1.1');
    assert.deepEqual([...entries(direct.stdout).keys()].sort(), [JANE, DEVS].sort());
    const chainOfAlex = await search('-b', BASE, `(member:${IN_CHAIN}:=${ALEX})`, '1.1');
    assert.deepEqual([...entries(chainOfAlex.stdout).keys()].sort(), [ENGINEERS, DEVS].sort());
  });
});
