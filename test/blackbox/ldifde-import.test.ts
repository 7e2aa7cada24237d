// An Active Directory export as `ldifde -f export.ldf -d "DC=corp,DC=example"` writes it
// (issue 8, item 13): `changetype: add` on every record, lines folded at 80 columns, the
// domain head (domainDNS), OUs, users (top/person/organizationalPerson/user with
// sAMAccountName, userPrincipalName, objectGUID and objectSid as base64, AD's bookkeeping
// attributes: distinguishedName, instanceType, uSNCreated, whenCreated, objectCategory, …),
// no unicodePwd (ldifde never exports it), a security group, and a computer account. It is
// imported into a Keyhaven whose ldapBaseDn is its default (dc=keyhaven,dc=local): the AD tree
// becomes a naming context of its own, the computer is skipped by DN with the reason, AD's
// operational attributes are dropped and listed, and the entries are served over LDAP under
// their AD DNs to a service account holding Directory Readers (ldapsearch, the real client).
// SQLite, or PostgreSQL with KEYHAVEN_TEST_STORAGE=postgres.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

const DOMAIN = 'DC=corp,DC=example';
const JANE = `CN=Jane Doe,OU=Staff,${DOMAIN}`;
const ANN = `CN=Smith\\, Ann,OU=Staff,${DOMAIN}`;
const ENGINEERS = `CN=Engineers,OU=Groups,${DOMAIN}`;
const COMPUTER = `CN=WS01,OU=Computers,${DOMAIN}`;
const JANE_GUID = randomBytes(16);
const ANN_GUID = randomBytes(16);

/** ldifde folds at 80 columns, continuation lines starting with one space. */
function fold(line: string): string {
  const parts = [line.slice(0, 80)];
  for (let i = 80; i < line.length; i += 79) parts.push(` ${line.slice(i, i + 79)}`);
  return parts.join('\r\n');
}

function record(dn: string, lines: string[]): string {
  return [`dn: ${dn}`, 'changetype: add', ...lines].map(fold).join('\r\n') + '\r\n';
}

function sid(rid: number): string {
  const b = Buffer.alloc(28);
  b.writeUInt8(1, 0); b.writeUInt8(5, 1); b.writeUIntBE(5, 2, 6);
  [21, 1004336348, 1177238915, 682003330, rid].forEach((v, i) => b.writeUInt32LE(v >>> 0, 8 + i * 4));
  return b.toString('base64');
}

function ldifde(): string {
  const bookkeeping = (dn: string, name: string, category: string) => [
    `distinguishedName: ${dn}`, 'instanceType: 4', 'whenCreated: 20240115093012.0Z', 'whenChanged: 20240301101500.0Z',
    'uSNCreated: 12873', 'uSNChanged: 13021', `name: ${name}`,
    `objectCategory: CN=${category},CN=Schema,CN=Configuration,${DOMAIN}`, 'dSCorePropagationData: 16010101000000.0Z',
  ];
  return [
    record(DOMAIN, ['objectClass: top', 'objectClass: domain', 'objectClass: domainDNS', 'dc: corp', ...bookkeeping(DOMAIN, 'corp', 'Domain-DNS')]),
    record(`OU=Staff,${DOMAIN}`, ['objectClass: top', 'objectClass: organizationalUnit', 'ou: Staff', 'description: Research staff accounts',
      ...bookkeeping(`OU=Staff,${DOMAIN}`, 'Staff', 'Organizational-Unit')]),
    record(`OU=Groups,${DOMAIN}`, ['objectClass: top', 'objectClass: organizationalUnit', 'ou: Groups', ...bookkeeping(`OU=Groups,${DOMAIN}`, 'Groups', 'Organizational-Unit')]),
    record(`OU=Computers,${DOMAIN}`, ['objectClass: top', 'objectClass: organizationalUnit', 'ou: Computers', ...bookkeeping(`OU=Computers,${DOMAIN}`, 'Computers', 'Organizational-Unit')]),
    record(JANE, [
      'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
      'cn: Jane Doe', 'sn: Doe', 'givenName: Jane', 'displayName: Jane Doe', 'title: Principal Investigator', 'department: Research',
      'company: Example Corp', 'telephoneNumber: +1 555 0100', ...bookkeeping(JANE, 'Jane Doe', 'Person'),
      `objectGUID:: ${JANE_GUID.toString('base64')}`, 'userAccountControl: 512', 'badPwdCount: 0', 'codePage: 0', 'countryCode: 0',
      'badPasswordTime: 0', 'lastLogoff: 0', 'lastLogon: 0', 'pwdLastSet: 133512345678901234', 'primaryGroupID: 513',
      `objectSid:: ${sid(1105)}`, 'accountExpires: 9223372036854775807', 'logonCount: 0', 'sAMAccountName: jdoe',
      'sAMAccountType: 805306368', 'userPrincipalName: jdoe@corp.example', 'mail: jane.doe@corp.example',
      `memberOf: ${ENGINEERS}`,
    ]),
    record(ANN, [
      'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
      'cn: Smith, Ann', 'sn: Smith', 'givenName: Ann', 'displayName: Ann Smith', ...bookkeeping(ANN, 'Smith, Ann', 'Person'),
      `objectGUID:: ${ANN_GUID.toString('base64')}`, 'userAccountControl: 514', `objectSid:: ${sid(1106)}`,
      'sAMAccountName: asmith', 'userPrincipalName: asmith@corp.example',
    ]),
    record(ENGINEERS, [
      'objectClass: top', 'objectClass: group', 'cn: Engineers', 'description: Everyone who builds things', `member: ${JANE}`,
      ...bookkeeping(ENGINEERS, 'Engineers', 'Group'), `objectGUID:: ${randomBytes(16).toString('base64')}`, `objectSid:: ${sid(1107)}`,
      'sAMAccountName: Engineers', 'sAMAccountType: 268435456', 'groupType: -2147483646',
    ]),
    record(COMPUTER, [
      'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user', 'objectClass: computer',
      'cn: WS01', ...bookkeeping(COMPUTER, 'WS01', 'Computer'), 'userAccountControl: 4096', 'sAMAccountName: WS01$',
      'dNSHostName: ws01.corp.example',
    ]),
  ].join('\r\n');
}

/** ldapsearch -LLL -o ldif-wrap=no output: entries by DN as printed, text values decoded. */
function parse(stdout: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z0-9;.-]+):(:?) ?(.*)$/.exec(line);
    if (!m) continue;
    const value = m[2] === ':' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
    if (m[1]!.toLowerCase() === 'dn') out.set(value, (current = new Map()));
    else current?.set(m[1]!.toLowerCase(), [...(current.get(m[1]!.toLowerCase()) ?? []), value]);
  }
  return out;
}

describe('an ldifde export of Active Directory, imported and served', () => {
  let server: ServerProcess;
  let storage: { url: string; drop(): Promise<void> };
  let home: { home: string; remove(): void };
  let cli: string;
  let file: string;
  let bind: string[];
  let url: string;
  const store = () => ['--home', server.home, '--storage', storage.url];
  const kh = (...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: cli } });
  const search = async (base: string, filter: string, ...attrs: string[]) => {
    const r = await ldapTool('ldapsearch', ['-x', '-H', url, ...bind, '-LLL', '-o', 'ldif-wrap=no', '-b', base, filter, ...attrs]);
    assert.equal(r.code, 0, r.stderr);
    return parse(r.stdout);
  };

  before(async () => {
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url });
    url = `ldap://127.0.0.1:${server.ldapPort}`;
    cli = mkdtempSync(join(tmpdir(), 'kh-cli-'));
    file = join(server.home, 'export.ldf');
    writeFileSync(file, ldifde());
    const password = readFileSync(join(server.home, 'admin-password'), 'utf8').trim();
    assert.equal((await kh('login', '--server', server.url, '--username', 'admin', '--password', password)).code, 0);
    const rbac = await kh('ad', 'sp', 'create-for-rbac', '--name', 'ldap-reader');
    assert.equal(rbac.code, 0, rbac.stderr);
    const sp = JSON.parse(rbac.stdout) as { appId: string; password: string };
    const grant = await kh('ad', 'role', 'assignment', 'create', '--role', 'Directory Readers', '--assignee', sp.appId);
    assert.equal(grant.code, 0, grant.stderr);
    bind = ['-D', `cn=${sp.appId},ou=services,dc=keyhaven,dc=local`, '-w', sp.password];
  });

  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
    if (cli) rmSync(cli, { recursive: true, force: true });
  });

  it('import-ldif (and --dry-run) reports the computer skipped by DN with the reason, AD bookkeeping dropped, the domain a naming context', async () => {
    const results = [];
    for (const extra of [['--dry-run'], []]) {
      const r = await runCli(['directory', 'import-ldif', file, ...store(), ...extra, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      results.push(JSON.parse(r.stdout) as Record<string, unknown>);
    }
    for (const result of results) {
      assert.equal(result.users, 2);
      assert.equal(result.groups, 1);
      assert.equal(result.entriesKept, 4);
      assert.deepEqual(result.serviceAccounts, []);
      const skipped = result.skippedEntries as { dn: string; line: number; reason: string }[];
      assert.deepEqual(skipped.map((s) => s.dn), [COMPUTER]);
      assert.match(skipped[0]!.reason, /computer account/);
      assert.ok(skipped[0]!.line > 1);
      assert.deepEqual(result.namingContexts, [DOMAIN]);
      for (const a of ['objectSid', 'whenCreated', 'uSNCreated', 'distinguishedName', 'objectCategory', 'memberOf', 'pwdLastSet']) {
        assert.ok((result.droppedAttributes as string[]).map((d) => d.toLowerCase()).includes(a.toLowerCase()), a);
      }
    }
    assert.equal(results[0]!.dryRun, true);
  });

  it('the Root DSE lists the AD domain beside ldapBaseDn', async () => {
    const r = await ldapTool('ldapsearch', ['-x', '-H', url, ...bind, '-LLL', '-s', 'base', '-b', '', '(objectClass=*)', 'namingContexts']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parse(r.stdout).get('')?.get('namingcontexts'), ['dc=keyhaven,dc=local', DOMAIN]);
  });

  it('serves the users under their AD DNs with their attributes, the group with its member, the OUs and domain head as imported', async () => {
    const jane = (await search(DOMAIN, '(sAMAccountName=jdoe)', '*', 'memberOf', 'objectGUID')).get(JANE);
    assert.ok(jane, 'Jane under her AD DN');
    // The classic AD user lookup (AD guides give it to JupyterHub's LDAPAuthenticator): the
    // category by its short name, as AD matches it.
    const classic = await search(DOMAIN, '(&(objectCategory=person)(objectClass=user)(sAMAccountName=jdoe))', 'objectCategory');
    assert.deepEqual([...classic.keys()], [JANE]);
    assert.match(classic.get(JANE)!.get('objectcategory')![0]!, /^CN=Person,CN=Schema,CN=Configuration,/);
    assert.equal((await search(DOMAIN, '(&(objectCategory=group)(sAMAccountName=jdoe))')).size, 0);
    assert.deepEqual(jane.get('cn'), ['Jane Doe']);
    assert.deepEqual(jane.get('title'), ['Principal Investigator']);
    assert.deepEqual(jane.get('department'), ['Research']);
    assert.deepEqual(jane.get('telephonenumber'), ['+1 555 0100']);
    assert.deepEqual(jane.get('mail'), ['jane.doe@corp.example']);
    assert.deepEqual(jane.get('userprincipalname'), ['jdoe@corp.example']);
    assert.deepEqual(jane.get('memberof'), [ENGINEERS]);
    assert.ok(jane.get('objectclass')?.includes('user'));
    // The objectGUID came through: the same 16 bytes identify her.
    const guid = await ldapTool('ldapsearch', ['-x', '-H', url, ...bind, '-LLL', '-o', 'ldif-wrap=no', '-b', JANE, '-s', 'base', '(objectClass=*)', 'objectGUID']);
    assert.match(guid.stdout, new RegExp(`objectGUID:: ${JANE_GUID.toString('base64').replace(/[+/]/g, '\\$&')}`));

    const ann = (await search(DOMAIN, '(sAMAccountName=asmith)', 'cn', 'userAccountControl')).get('CN=Smith\\, Ann,OU=Staff,DC=corp,DC=example');
    assert.deepEqual(ann?.get('cn'), ['Smith, Ann']);
    assert.deepEqual(ann?.get('useraccountcontrol'), ['514'], 'disabled (ACCOUNTDISABLE) as AD had it');

    const group = (await search(DOMAIN, `(member=${JANE})`, 'cn', 'member', 'description', 'groupType')).get(ENGINEERS);
    assert.deepEqual(group?.get('member'), [JANE]);
    assert.deepEqual(group?.get('description'), ['Everyone who builds things']);

    const ous = await search(DOMAIN, '(objectClass=organizationalUnit)', 'ou', 'description');
    assert.deepEqual([...ous.keys()].sort(), [`OU=Computers,${DOMAIN}`, `OU=Groups,${DOMAIN}`, `OU=Staff,${DOMAIN}`]);
    assert.deepEqual(ous.get(`OU=Staff,${DOMAIN}`)?.get('description'), ['Research staff accounts']);
    const head = (await search(DOMAIN, '(objectClass=domainDNS)', 'objectClass', 'dc')).get(DOMAIN);
    assert.deepEqual(head?.get('objectclass'), ['top', 'domain', 'domainDNS']);
    // The computer account is nowhere.
    assert.equal((await search(DOMAIN, '(cn=WS01)')).size, 0);
  });
});
