// Keyhaven against Debian's slapd, entry by entry (issue 8, acceptance): slapd (/usr/sbin/slapd,
// mdb backend, core/cosine/inetorgperson/nis schemas, loopback port, a temp dir) is loaded with
// slapadd from an LDIF generated here — 60 users (displayName unlike cn, several cn values, a
// cn= RDN whose value is not the first cn, jpegPhoto, title, employeeType, ou), an organization
// base with `o` and a description, containers with descriptions, groupOfNames (one nested),
// groupOfUniqueNames, posixGroup `staff`, and a `cn=reader` search account — then exported
// with slapcat; THAT file (the other system's own output) is imported into a Keyhaven whose
// ldapBaseDn is its default dc=keyhaven,dc=local, so the tree is served under a naming context
// of its own. Both servers get the same searches through ldapsearch and the answers are diffed
// attribute by attribute: every entry and value slapd returns must come back from Keyhaven the
// same; Keyhaven may add only what docs/ldap-import.md lists (KEYHAVEN_ADDS below). slapd's
// access rule: everything readable by everyone but userPassword. Keyhaven's cn=reader reads
// nothing until an administrator grants it Directory Readers (`keyhaven ad role assignment
// create`), then compares as slapd's does; anonymous and user callers are compared too (one
// visibility rule: every attribute but the private ones, none of which the source holds, as
// slapd's access rule has it). Then export-ldif → import into a fresh
// Keyhaven → export-ldif again: the same entries. Skipped, with the reason, only when slapd is
// not installed. SQLite, or PostgreSQL with KEYHAVEN_TEST_STORAGE=postgres.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { freePort } from '../helpers/free-port.js';

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const SLAPCAT = '/usr/sbin/slapcat';
const SCHEMA = '/etc/ldap/schema';
const missing = [SLAPD, SLAPADD, SLAPCAT, ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `${SCHEMA}/${s}.schema`)].filter((f) => !existsSync(f));
const SKIP = missing.length > 0 ? `Debian's slapd is not installed (missing ${missing.join(', ')}): apt-get install slapd` : false;

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const READER = `cn=reader,${SUFFIX}`;
const USERS = 60;
const READER_PASSWORD = `Reader-${randomBytes(6).toString('hex')}`;
const passwordOf = (i: number) => `User-${i}-${randomBytes(4).toString('hex')}`;
const PASSWORDS = Array.from({ length: USERS }, (_, i) => passwordOf(i));
const userDn = (i: number) => (i === 5 ? `cn=Grace Hopper,${PEOPLE}` : `uid=user${i},${PEOPLE}`);
/** A small JPEG-looking binary value: SOI marker, bytes that are not UTF-8, EOI marker. */
const PHOTO = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), randomBytes(200), Buffer.from([0xff, 0xd9])]);

/**
 * What Keyhaven adds to an imported entry (docs/ldap-import.md, "What Keyhaven adds"): its own
 * object classes and the attributes of its user and group models (RFC 2307, Active Directory).
 * Every other difference fails the test.
 */
const KEYHAVEN_ADDS = {
  userClasses: ['person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount', 'user', 'ldapPublicKey'],
  groupClasses: ['groupOfNames', 'posixGroup', 'group'],
  userAttributes: ['objectguid', 'objectsid', 'objectcategory', 'samaccountname', 'userprincipalname', 'useraccountcontrol', 'samaccounttype', 'whencreated', 'whenchanged', 'displayname', 'gecos', 'memberof', 'sn', 'uidnumber', 'gidnumber', 'homedirectory', 'loginshell'],
  groupAttributes: ['objectguid', 'objectsid', 'objectcategory', 'samaccountname', 'grouptype', 'samaccounttype', 'whencreated', 'whenchanged', 'displayname', 'gidnumber', 'member', 'memberuid', 'memberof'],
};

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

function sourceLdif(): string {
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
  const out: string[] = [
    [`dn: ${SUFFIX}`, 'objectClass: top', 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example Research Institute',
      'description: The institute\'s directory', ''].join('\n'),
    [`dn: ${PEOPLE}`, 'objectClass: organizationalUnit', 'ou: people', 'description: Everyone with an account', ''].join('\n'),
    [`dn: ${GROUPS}`, 'objectClass: organizationalUnit', 'ou: groups', 'description: Teams and POSIX groups', ''].join('\n'),
    [`dn: ${READER}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: reader',
      'description: Search account for JupyterHub', `userPassword: ${ssha(READER_PASSWORD)}`, ''].join('\n'),
  ];
  for (let i = 0; i < USERS; i++) {
    const lines = [`dn: ${userDn(i)}`, 'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: inetOrgPerson', 'objectClass: posixAccount'];
    if (i === 5) lines.push('uid: grace', 'cn: Grace Brewster Hopper', 'cn: Grace Hopper', 'displayName: Amazing Grace', 'sn: Hopper');
    else if (i === 3) lines.push('uid: user3', 'cn: Ada King', 'cn: Ada Lovelace', 'displayName: Ada', 'sn: King');
    else lines.push(`uid: user${i}`, `cn: User ${i}`, `sn: Number${i}`);
    if (i % 7 === 1) lines.push(`displayName: U. ${i} (display)`);
    lines.push(`givenName: Given${i}`, `mail: user${i}@example.org`);
    if (i % 10 === 2) lines.push(`mail: u${i}.alias@example.org`);
    lines.push(`uidNumber: ${20000 + i}`, `gidNumber: ${i % 2 === 0 ? 5000 : 20000 + i}`, `homeDirectory: /home/user${i}`, 'loginShell: /bin/bash');
    if (i % 4 === 0) lines.push(`title: Research Fellow ${i}`, 'employeeType: staff', 'ou: Research');
    if (i % 4 === 1) lines.push('title: Engineer', 'employeeType: contractor', 'ou: Engineering');
    if (i % 6 === 0) lines.push(`description:: ${b64(`Member of the team since 20${10 + (i % 10)} — à la carte`)}`);
    if (i % 9 === 0) lines.push(`jpegPhoto:: ${b64(PHOTO)}`);
    if (i % 11 === 0) lines.push('o: Example Research Institute');
    lines.push(`userPassword: ${ssha(PASSWORDS[i]!)}`, '');
    out.push(lines.join('\n'));
  }
  const members = (pred: (i: number) => boolean) => Array.from({ length: USERS }, (_, i) => i).filter(pred);
  out.push([`dn: cn=researchers,${GROUPS}`, 'objectClass: top', 'objectClass: groupOfNames', 'cn: researchers', 'description: Research staff',
    ...members((i) => i % 4 === 0).map((i) => `member: ${userDn(i)}`), ''].join('\n'));
  out.push([`dn: cn=engineers,${GROUPS}`, 'objectClass: top', 'objectClass: groupOfNames', 'cn: engineers', 'cn: Engineering',
    ...members((i) => i % 4 === 1).map((i) => `member: ${userDn(i)}`), ''].join('\n'));
  out.push([`dn: cn=everyone,${GROUPS}`, 'objectClass: top', 'objectClass: groupOfNames', 'cn: everyone',
    `member: cn=researchers,${GROUPS}`, `member: cn=engineers,${GROUPS}`, `member: ${userDn(5)}`, ''].join('\n'));
  out.push([`dn: cn=reviewers,${GROUPS}`, 'objectClass: top', 'objectClass: groupOfUniqueNames', 'cn: reviewers', 'description: Paper reviewers',
    ...members((i) => i % 5 === 0).map((i) => `uniqueMember: ${userDn(i)}`), ''].join('\n'));
  out.push([`dn: cn=staff,${GROUPS}`, 'objectClass: top', 'objectClass: posixGroup', 'cn: staff', 'gidNumber: 5000', 'description: POSIX group of the staff',
    ...members((i) => i % 2 === 0).map((i) => `memberUid: ${i === 5 ? 'grace' : `user${i}`}`), ''].join('\n'));
  out.push([`dn: cn=hpc,${GROUPS}`, 'objectClass: top', 'objectClass: posixGroup', 'cn: hpc', 'gidNumber: 5001',
    ...members((i) => i % 3 === 0).map((i) => `memberUid: user${i}`), ''].join('\n'));
  return out.join('\n');
}

interface Slapd {
  url: string;
  child: ChildProcess;
  exported: string;
  stop(): Promise<void>;
}

/** slapd from a slapd.conf in `dir`: slapadd the source, slapcat it back, serve it on loopback. */
async function startSlapd(dir: string, ldif: string): Promise<Slapd> {
  const db = join(dir, 'db');
  mkdirSync(db);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${SCHEMA}/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'loglevel 0',
    'database mdb',
    'maxsize 104857600',
    `suffix "${SUFFIX}"`,
    `rootdn "cn=admin,${SUFFIX}"`,
    `rootpw ${randomBytes(12).toString('hex')}`,
    `directory ${db}`,
    // Everything readable by everyone except userPassword, which only serves binds.
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by * read',
    '',
  ].join('\n'));
  const source = join(dir, 'source.ldif');
  writeFileSync(source, ldif);
  const add = spawnSync(SLAPADD, ['-q', '-f', conf, '-l', source], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(add.status, 0, `slapadd: ${add.stderr}`);
  const cat = spawnSync(SLAPCAT, ['-f', conf], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(cat.status, 0, `slapcat: ${cat.stderr}`);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(SLAPD, ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode})\n${log}`);
    const r = await ldapTool('ldapsearch', ['-x', '-H', url, '-s', 'base', '-b', '', '(objectClass=*)', 'namingContexts']);
    if (r.code === 0) break;
    if (Date.now() > deadline) throw new Error(`slapd did not answer in time\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = () => new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      r();
    });
    child.kill('SIGTERM');
  });
  return { url, child, exported: cat.stdout, stop };
}

type Entry = { dn: string; attrs: Map<string, string[]> };

/** ldapsearch -LLL -o ldif-wrap=no output: entries by lower-cased DN, values as base64 of their bytes (binary-safe). */
function parseEntries(stdout: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  let current: Entry | undefined;
  for (const line of stdout.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9;.-]+):(:?) ?(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed ldapsearch line: ${line.slice(0, 80)}`);
    const bytes = m[2] === ':' ? Buffer.from(m[3]!, 'base64') : Buffer.from(m[3]!, 'utf8');
    if (m[1]!.toLowerCase() === 'dn') {
      current = { dn: bytes.toString('utf8'), attrs: new Map() };
      out.set(current.dn.toLowerCase(), current);
      continue;
    }
    const key = m[1]!.toLowerCase();
    current!.attrs.set(key, [...(current!.attrs.get(key) ?? []), bytes.toString('base64')]);
  }
  return out;
}

const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

interface Caller {
  name: string;
  args: string[];
}

async function search(url: string, caller: Caller, base: string, filter: string, attributes: string[] = [], scope = 'sub'): Promise<{ code: number; entries: Map<string, Entry>; stderr: string }> {
  const r = await ldapTool('ldapsearch', ['-x', '-H', url, ...caller.args, '-LLL', '-o', 'ldif-wrap=no', '-s', scope, '-b', base, filter, ...attributes]);
  return { code: r.code, entries: r.code === 0 ? parseEntries(r.stdout) : new Map(), stderr: r.stderr };
}

const STAFF = `cn=staff,${GROUPS}`;
/**
 * Whether this Keyhaven still refuses the group name `staff` (a reserved-name list that is the
 * ldap-posix item 7 of issue 8): then the import gets the slapcat file without that one entry,
 * the diffs leave it out, and the assertion about it is a todo until that lands.
 */
let staffBlocked = false;

/** The slapcat output without one entry. */
function withoutEntry(ldif: string, dn: string): string {
  return ldif.split(/\n\n/).filter((block) => !block.toLowerCase().startsWith(`dn: ${dn.toLowerCase()}\n`)).join('\n\n');
}

/**
 * Differences between slapd's and Keyhaven's answers that KEYHAVEN_ADDS does not explain. With
 * `addedMatch` (a filter naming a class or attribute Keyhaven adds, such as posixGroup),
 * Keyhaven may return more of the entries slapd holds (`tree`): they match by what it adds.
 */
function differences(theirs: Map<string, Entry>, ours: Map<string, Entry>, addedMatch?: { tree: Map<string, Entry> }): string[] {
  const problems: string[] = [];
  for (const [key, want] of theirs) {
    if (staffBlocked && key === STAFF) continue;
    const got = ours.get(key);
    if (!got) {
      problems.push(`missing entry ${want.dn}`);
      continue;
    }
    const classes = (want.attrs.get('objectclass') ?? []).map((v) => text(v).toLowerCase());
    const isGroup = classes.some((c) => ['groupofnames', 'groupofuniquenames', 'posixgroup'].includes(c));
    const isUser = classes.includes('inetorgperson') || classes.includes('posixaccount');
    for (const [name, values] of want.attrs) {
      const mine = got.attrs.get(name);
      if (!mine) {
        problems.push(`${want.dn}: ${name} missing`);
        continue;
      }
      if (name === 'objectclass') {
        const extra = (isUser ? KEYHAVEN_ADDS.userClasses : isGroup ? KEYHAVEN_ADDS.groupClasses : []).map((c) => c.toLowerCase());
        const mineLower = mine.map((v) => text(v).toLowerCase());
        for (const c of classes) if (!mineLower.includes(c)) problems.push(`${want.dn}: objectClass ${c} missing`);
        for (const c of mineLower) if (!classes.includes(c) && c !== 'top' && !extra.includes(c)) problems.push(`${want.dn}: objectClass ${c} added`);
        continue;
      }
      const a = [...values].sort();
      const b = [...mine].sort();
      if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${want.dn}: ${name} ${JSON.stringify(values.map(text))} ≠ ${JSON.stringify(mine.map(text))}`);
    }
    const allowed = isUser ? KEYHAVEN_ADDS.userAttributes : isGroup ? KEYHAVEN_ADDS.groupAttributes : [];
    for (const name of got.attrs.keys()) {
      if (!want.attrs.has(name) && !allowed.includes(name)) problems.push(`${want.dn}: ${name} added (${JSON.stringify(got.attrs.get(name)!.map(text)).slice(0, 80)})`);
    }
  }
  for (const [key, got] of ours) {
    if (theirs.has(key)) continue;
    const inTree = addedMatch?.tree.get(key);
    if (inTree) problems.push(...differences(new Map([[key, inTree]]), new Map([[key, got]])));
    else problems.push(`entry ${got.dn} added`);
  }
  return problems;
}

/**
 * The searches both servers get (RFC 4515 filters of every kind clients send). `added`: the
 * filter names what Keyhaven adds (every group is a posixGroup and a groupOfNames there), so
 * more entries may match. `exact`: pending the exact search planner (ldap-readmodel, issue 8
 * item 3: an equality on cn is pre-selected by display and login name today).
 */
const SEARCHES: { base: string; filter: string; added?: true; pendingExact?: true }[] = [
  { base: SUFFIX, filter: '(objectClass=*)' },
  { base: SUFFIX, filter: '(uid=user7)' },
  { base: SUFFIX, filter: '(uid=grace)' },
  { base: SUFFIX, filter: '(cn=Ada Lovelace)', pendingExact: true },
  { base: SUFFIX, filter: '(cn=Grace Hopper)', pendingExact: true },
  { base: SUFFIX, filter: '(cn=engineering)', pendingExact: true },
  { base: SUFFIX, filter: '(cn=Ada King)', pendingExact: true },
  { base: SUFFIX, filter: '(ou=Research)' },
  { base: SUFFIX, filter: '(ou=people)' },
  { base: SUFFIX, filter: '(objectClass=posixGroup)', added: true },
  { base: SUFFIX, filter: '(objectClass=groupOfUniqueNames)' },
  { base: SUFFIX, filter: '(objectClass=organizationalUnit)' },
  { base: SUFFIX, filter: '(objectClass=organization)' },
  // Keyhaven serves member on a posixGroup too (its memberUid users): staff matches there.
  { base: SUFFIX, filter: `(member=${userDn(4)})`, added: true },
  { base: SUFFIX, filter: `(member=cn=researchers,${GROUPS})` },
  { base: SUFFIX, filter: `(uniqueMember=${userDn(10)})` },
  { base: SUFFIX, filter: '(memberUid=user6)' },
  { base: SUFFIX, filter: '(jpegPhoto=*)' },
  { base: SUFFIX, filter: '(description=*)' },
  { base: SUFFIX, filter: '(&(objectClass=inetOrgPerson)(title=Research*))' },
  { base: SUFFIX, filter: '(cn=User 1*)' },
  { base: SUFFIX, filter: '(mail=*alias@example.org)' },
  { base: SUFFIX, filter: '(|(employeeType=contractor)(cn=staff))' },
  { base: SUFFIX, filter: '(&(objectClass=posixAccount)(!(gidNumber=5000)))' },
  { base: SUFFIX, filter: '(&(objectClass=groupOfNames)(cn=every*))' },
  { base: SUFFIX, filter: '(o=Example Research Institute)' },
  { base: PEOPLE, filter: '(objectClass=*)' },
  { base: `cn=staff,${GROUPS}`, filter: '(objectClass=*)' },
  { base: READER, filter: '(objectClass=*)' },
];

describe('Keyhaven and slapd answer the same searches over the same data (slapadd → slapcat → import-ldif)', { skip: SKIP }, () => {
  let dir: string;
  let slapd: Slapd;
  let server: ServerProcess;
  let storage: { url: string; drop(): Promise<void> };
  let home: { home: string; remove(): void };
  let keyhaven: string;
  let exported: string;
  let importResult: Record<string, unknown>;
  const anonymous: Caller = { name: 'anonymous', args: [] };
  const user: Caller = { name: 'user', args: ['-D', userDn(8), '-w', PASSWORDS[8]!] };
  const reader: Caller = { name: 'cn=reader', args: ['-D', READER, '-w', READER_PASSWORD] };
  const env = { KEYHAVEN_LDAP_ANONYMOUS_SEARCH: 'true', KEYHAVEN_LDAP_ANONYMOUS_BIND: 'true' };
  const configDir = () => mkdtempSync(join(tmpdir(), 'kh-cli-'));
  const store = (s: ServerProcess, st: { url: string }) => ['--home', s.home, '--storage', st.url];

  async function grantDirectoryReaders(s: ServerProcess, spId: string): Promise<void> {
    const cli = configDir();
    try {
      const password = readFileSync(join(s.home, 'admin-password'), 'utf8').trim();
      const login = await runCli(['login', '--server', s.url, '--username', 'admin', '--password', password], { env: { KEYHAVEN_CONFIG_DIR: cli } });
      assert.equal(login.code, 0, login.stderr);
      const grant = await runCli(['ad', 'role', 'assignment', 'create', '--role', 'Directory Readers', '--assignee', spId], { env: { KEYHAVEN_CONFIG_DIR: cli } });
      assert.equal(grant.code, 0, grant.stderr);
    } finally {
      rmSync(cli, { recursive: true, force: true });
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-slapd-'));
    slapd = await startSlapd(dir, sourceLdif());
    exported = join(dir, 'slapcat.ldif');
    writeFileSync(exported, slapd.exported);
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url, env });
    keyhaven = `ldap://127.0.0.1:${server.ldapPort}`;
    let dry = await runCli(['directory', 'import-ldif', exported, ...store(server, storage), '--dry-run', '-o', 'json'], { env });
    if (dry.code !== 0 && /'staff'/.test(dry.stderr)) {
      staffBlocked = true;
      writeFileSync(exported, withoutEntry(slapd.exported, STAFF));
      dry = await runCli(['directory', 'import-ldif', exported, ...store(server, storage), '--dry-run', '-o', 'json'], { env });
    }
    assert.equal(dry.code, 0, dry.stderr);
    const r = await runCli(['directory', 'import-ldif', exported, ...store(server, storage), '--password-scrypt-log-n', '10', '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    importResult = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual({ ...JSON.parse(dry.stdout), serviceAccounts: [] }, { ...importResult, dryRun: true, serviceAccounts: [] });
  });

  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
    await slapd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports the slapcat export whole: users, groups (staff among them), base, containers, the search account', () => {
    assert.equal(importResult.users, USERS);
    assert.equal(importResult.groups, staffBlocked ? 5 : 6);
    assert.equal(importResult.entriesKept, 4);
    assert.deepEqual(importResult.skippedEntries, []);
    assert.deepEqual(importResult.namingContexts, [SUFFIX]);
    const accounts = importResult.serviceAccounts as { dn: string; servicePrincipalId: string }[];
    assert.deepEqual(accounts.map((a) => a.dn), [READER]);
    // slapcat's operational attributes are the other server's bookkeeping, dropped and listed.
    for (const a of ['creatorsName', 'entryCSN', 'structuralObjectClass']) assert.ok((importResult.droppedAttributes as string[]).includes(a), a);
  });

  it('lists the imported tree as a naming context of its own in the Root DSE, beside ldapBaseDn', async () => {
    const r = await search(keyhaven, anonymous, '', '(objectClass=*)', ['namingContexts'], 'base');
    assert.equal(r.code, 0, r.stderr);
    const dse = [...r.entries.values()][0]!;
    assert.deepEqual(dse.attrs.get('namingcontexts')!.map(text), ['dc=keyhaven,dc=local', SUFFIX]);
  });

  it('binds every user with the original DN and password (legacy {SSHA}), and the search account too', async () => {
    for (const i of [0, 5, 8, 59]) {
      const r = await ldapTool('ldapwhoami', ['-x', '-H', keyhaven, '-D', userDn(i), '-w', PASSWORDS[i]!]);
      assert.equal(r.code, 0, `${userDn(i)}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), `dn:${userDn(i)}`);
    }
    const wrong = await ldapTool('ldapwhoami', ['-x', '-H', keyhaven, '-D', READER, '-w', `${READER_PASSWORD}x`]);
    assert.equal(wrong.code, 49, wrong.stderr);
    const ok = await ldapTool('ldapwhoami', ['-x', '-H', keyhaven, '-D', READER, '-w', READER_PASSWORD]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `dn:${READER}`);
  });

  it('the search account reads nothing until an administrator grants it Directory Readers', async () => {
    const before = await search(keyhaven, reader, SUFFIX, '(uid=user1)');
    assert.equal(before.code, 50, `expected insufficientAccessRights, got ${before.code}: ${before.stderr}`);
    const account = (importResult.serviceAccounts as { servicePrincipalId: string }[])[0]!;
    await grantDirectoryReaders(server, account.servicePrincipalId);
    const after = await search(keyhaven, reader, SUFFIX, '(uid=user1)');
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.entries.size, 1);
  });

  it('imports and serves the posixGroup named staff', async (t) => {
    if (staffBlocked) t.todo('the reserved group-name list (ldap-posix, issue 8 item 7) still refuses staff');
    assert.equal(staffBlocked, false, 'import-ldif refused the group staff');
    const theirs = await search(slapd.url, reader, STAFF, '(objectClass=*)');
    const ours = await search(keyhaven, reader, STAFF, '(objectClass=*)');
    assert.equal(ours.code, 0, ours.stderr);
    assert.deepEqual(differences(theirs.entries, ours.entries), []);
  });

  /** The differences over `searches`, as `caller`, on both servers. */
  async function compareAll(caller: Caller, searches: typeof SEARCHES): Promise<string[]> {
    const tree = (await search(slapd.url, reader, SUFFIX, '(objectClass=*)')).entries;
    const problems: string[] = [];
    for (const s of searches) {
      if (staffBlocked && s.base === STAFF) continue;
      const theirs = await search(slapd.url, caller, s.base, s.filter);
      const ours = await search(keyhaven, caller, s.base, s.filter);
      assert.equal(theirs.code, 0, `slapd ${s.filter}: ${theirs.stderr}`);
      if (ours.code !== 0) {
        problems.push(`${s.filter} @ ${s.base}: keyhaven answered ${ours.code} ${ours.stderr.trim()}`);
        continue;
      }
      assert.ok(theirs.entries.size > 0, `slapd found nothing for ${s.filter} under ${s.base}: the search tests nothing`);
      problems.push(...differences(theirs.entries, ours.entries, s.added ? { tree } : undefined).map((p) => `${s.filter} @ ${s.base}: ${p}`));
    }
    return problems;
  }

  it('as cn=reader: every search answers as slapd does, apart from what Keyhaven documents it adds', async () => {
    assert.deepEqual(await compareAll(reader, SEARCHES.filter((s) => !s.pendingExact)), []);
  });

  it('as cn=reader: equality on a cn that is neither the display nor the login name', async () => {
    assert.deepEqual(await compareAll(reader, SEARCHES.filter((s) => s.pendingExact)), []);
  });

  it('serves imported values as imported: cn with the RDN value first, displayName unlike cn, jpegPhoto bytes, base and containers', async () => {
    const grace = (await search(keyhaven, reader, userDn(5), '(objectClass=*)')).entries.get(userDn(5).toLowerCase())!;
    assert.deepEqual(grace.attrs.get('cn')!.map(text), ['Grace Hopper', 'Grace Brewster Hopper']);
    assert.deepEqual(grace.attrs.get('displayname')!.map(text), ['Amazing Grace']);
    const ada = (await search(keyhaven, reader, userDn(3), '(objectClass=*)')).entries.get(userDn(3).toLowerCase())!;
    assert.deepEqual(ada.attrs.get('cn')!.map(text), ['Ada King', 'Ada Lovelace']);
    const photo = (await search(keyhaven, reader, userDn(9), '(objectClass=*)', ['jpegPhoto'])).entries.get(userDn(9).toLowerCase())!;
    assert.ok(Buffer.from(photo.attrs.get('jpegphoto')![0]!, 'base64').equals(PHOTO));
    const base = (await search(keyhaven, reader, SUFFIX, '(objectClass=*)', ['*']).then((r) => r.entries.get(SUFFIX)))!;
    assert.deepEqual(base.attrs.get('o')!.map(text), ['Example Research Institute']);
    assert.deepEqual(base.attrs.get('objectclass')!.map(text), ['top', 'dcObject', 'organization']);
    const people = (await search(keyhaven, reader, PEOPLE, '(objectClass=*)')).entries.get(PEOPLE)!;
    assert.deepEqual(people.attrs.get('description')!.map(text), ['Everyone with an account']);
  });

  for (const caller of [anonymous, user]) {
    it(`as ${caller.name}: every search answers as slapd does`, async () => {
      assert.deepEqual(await compareAll(caller, SEARCHES), []);
    });
  }

  it('export-ldif → import-ldif into a fresh Keyhaven → export-ldif: the same entries, served the same', async () => {
    const first = join(dir, 'first.ldif');
    const r1 = await runCli(['directory', 'export-ldif', ...store(server, storage), '--subtree', SUFFIX, '--include-password-hashes', '--output-file', first], { env });
    assert.equal(r1.code, 0, r1.stderr);
    const home2 = tempHome();
    const storage2 = await blackboxStorage(home2.home);
    const server2 = await startServerProcess({ home: home2.home, storage: storage2.url, env });
    try {
      const imported = await runCli(['directory', 'import-ldif', first, ...store(server2, storage2), '--password-scrypt-log-n', '10', '-o', 'json'], { env });
      assert.equal(imported.code, 0, imported.stderr);
      const result = JSON.parse(imported.stdout) as { users: number; groups: number; entriesKept: number; serviceAccounts: { servicePrincipalId: string }[] };
      assert.deepEqual([result.users, result.groups, result.entriesKept], [USERS, staffBlocked ? 5 : 6, 4]);
      const second = join(dir, 'second.ldif');
      const r2 = await runCli(['directory', 'export-ldif', ...store(server2, storage2), '--subtree', SUFFIX, '--include-password-hashes', '--output-file', second], { env });
      assert.equal(r2.code, 0, r2.stderr);
      const body = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
      assert.equal(body(second), body(first));
      // And the second server answers the searches as the first.
      await grantDirectoryReaders(server2, result.serviceAccounts[0]!.servicePrincipalId);
      const url2 = `ldap://127.0.0.1:${server2.ldapPort}`;
      for (const s of SEARCHES.slice(0, 6)) {
        const a = await search(keyhaven, reader, s.base, s.filter, ['*']);
        const b = await search(url2, reader, s.base, s.filter, ['*']);
        // Values of an attribute are a set (RFC 4511 §4.1.7): membership values may come back in
        // another order from the second store; cn keeps its order (the RDN's value first).
        const unordered = new Set(['member', 'uniquemember', 'memberuid', 'memberof']);
        const strip = (m: Map<string, Entry>) => [...m.values()].map((e) => ({
          dn: e.dn,
          attrs: [...e.attrs].filter(([k]) => !['whencreated', 'whenchanged'].includes(k)).map(([k, v]) => [k, unordered.has(k) ? [...v].sort() : v] as const).sort(),
        }));
        assert.deepEqual(strip(b.entries), strip(a.entries), s.filter);
      }
    } finally {
      await server2.stop();
      await storage2.drop();
      home2.remove();
    }
  });
});
