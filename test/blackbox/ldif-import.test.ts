// `keyhaven directory import-ldif` / `export-ldif` end to end: an LDIF written here (220 users
// across every password scheme an OpenLDAP or AD export brings, 20 nested groups, binary
// jpegPhoto, AD and OpenLDAP layouts) is imported with the CLI into a running server's store;
// every user then signs in with the original password through the token endpoint, after which
// the stored hash is Keyhaven's argon2id; export → parse gives back the same DNs and attributes;
// a broken LDIF exits 1 naming the line and imports nothing. SQLite, or PostgreSQL with
// KEYHAVEN_TEST_STORAGE=postgres.
import assert from 'node:assert/strict';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import { shaCryptHash } from '../../src/crypto/legacy-password-hash.js';
import { normalizeDn } from '../../src/directory/ldif/ldif-dn.js';
import { groupAttributes, parseLdif, type LdifEntry } from '../../src/directory/ldif/ldif-parser.js';
import { writeLdif, type LdifOutEntry } from '../../src/directory/ldif/ldif-writer.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { postForm, tenantOf, AZURE_CLI_CLIENT_ID, type Tenant } from '../helpers/tenant-fixtures.js';

const USERS = 220;
const GROUPS = 20;
const SCHEMES = ['clear', 'SSHA', 'SSHA256', 'SSHA512', 'CRYPT6', 'CRYPT5', 'BCRYPT', 'PBKDF2', 'ARGON2'] as const;
const BASE = 'dc=example,dc=org';

const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
const cryptSalt = () => randomBytes(12).toString('base64').replace(/[+=]/g, '.').slice(0, 16);

async function hashFor(scheme: (typeof SCHEMES)[number], password: string): Promise<string> {
  const pw = Buffer.from(password, 'utf8');
  const salt = randomBytes(8);
  const ssha = (alg: string, name: string) => `{${name}}${Buffer.concat([createHash(alg).update(pw).update(salt).digest(), salt]).toString('base64')}`;
  switch (scheme) {
    case 'clear': return password;
    case 'SSHA': return ssha('sha1', 'SSHA');
    case 'SSHA256': return ssha('sha256', 'SSHA256');
    case 'SSHA512': return ssha('sha512', 'SSHA512');
    case 'CRYPT6': {
      const s = cryptSalt();
      return `{CRYPT}$6$rounds=1000$${s}$${shaCryptHash(true, pw, Buffer.from(s), 1000)}`;
    }
    case 'CRYPT5': {
      const s = cryptSalt();
      return `{CRYPT}$5$${s}$${shaCryptHash(false, pw, Buffer.from(s), 5000)}`;
    }
    case 'BCRYPT': return `{CRYPT}${await bcrypt.hash(password, 4)}`;
    case 'PBKDF2': return `{PBKDF2-SHA512}1000$${ab64(salt)}$${ab64(pbkdf2Sync(pw, salt, 1000, 64, 'sha512'))}`;
    case 'ARGON2': return `{ARGON2}${await argon2Hash(password, { memoryCost: 1024, timeCost: 1, parallelism: 1 })}`;
  }
}

interface Fixture {
  ldif: string;
  entries: LdifOutEntry[];
  passwords: Map<string, string>;
}

async function buildLdif(): Promise<Fixture> {
  const entries: LdifOutEntry[] = [
    { dn: BASE, attributes: [{ name: 'objectClass', values: ['top', 'dcObject', 'organization'] }, { name: 'dc', values: ['example'] }, { name: 'o', values: ['Example'] }] },
    { dn: `ou=people,${BASE}`, attributes: [{ name: 'objectClass', values: ['organizationalUnit'] }, { name: 'ou', values: ['people'] }] },
    { dn: `OU=Users,${BASE}`, attributes: [{ name: 'objectClass', values: ['organizationalUnit'] }, { name: 'ou', values: ['Users'] }] },
    { dn: `ou=groups,${BASE}`, attributes: [{ name: 'objectClass', values: ['organizationalUnit'] }, { name: 'ou', values: ['groups'] }] },
  ];
  const passwords = new Map<string, string>();
  const userDns: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const name = `user${String(i).padStart(3, '0')}`;
    const password = `Pw-${i}-${randomBytes(6).toString('hex')}${i % 7 === 0 ? '-päss' : ''}`;
    passwords.set(name, password);
    const stored = await hashFor(SCHEMES[i % SCHEMES.length]!, password);
    const ad = i % 10 === 9;
    const attributes: LdifOutEntry['attributes'] = [];
    const add = (n: string, ...values: (string | Buffer)[]) => attributes.push({ name: n, values });
    if (ad) {
      const cn = `User ${i} Name`;
      const dn = `CN=${cn},OU=Users,${BASE}`;
      userDns.push(dn);
      add('objectClass', 'top', 'person', 'organizationalPerson', 'user');
      add('cn', cn);
      add('sAMAccountName', name);
      add('userPrincipalName', `${name}@corp.example.org`);
      add('displayName', cn);
      add('sn', 'Name');
      add('userAccountControl', '512');
      add('userPassword', stored);
      add('department', `Dept ${i % 4}`);
      entries.push({ dn, attributes });
    } else {
      const dn = `uid=${name},ou=people,${BASE}`;
      userDns.push(dn);
      add('objectClass', 'top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount');
      add('uid', name);
      add('cn', `Given${i} Sur${i}`);
      add('displayName', `Given${i} Sur${i}`);
      add('givenName', `Given${i}`);
      add('sn', `Sur${i}`);
      add('mail', `${name}@example.org`);
      add('uidNumber', String(20000 + i));
      add('gidNumber', String(20000 + i));
      add('homeDirectory', `/home/${name}`);
      add('loginShell', i % 2 ? '/bin/bash' : '/bin/zsh');
      add('userPassword', stored);
      add('employeeNumber', String(1000 + i));
      if (i % 5 === 0) add('jpegPhoto', randomBytes(300 + i));
      if (i % 6 === 0) add('description', `Ünïcode description ${i}`, ` leading space ${i}`);
      if (i % 8 === 0) add('departmentNumber', 'A', 'B');
      entries.push({ dn, attributes });
    }
  }
  // 20 groups: a nesting chain grp00 ⊃ grp01 ⊃ … ⊃ grp19, plus a diamond; mixed classes.
  for (let g = 0; g < GROUPS; g++) {
    const cn = `grp${String(g).padStart(2, '0')}`;
    const members = userDns.filter((_, i) => i % GROUPS === g);
    const nested = g + 1 < GROUPS ? [`cn=grp${String(g + 1).padStart(2, '0')},ou=groups,${BASE}`] : [];
    if (g === 0) nested.push(`CN=GRP05, OU=Groups, DC=Example, DC=Org`); // another case and spacing
    const attributes: LdifOutEntry['attributes'] = [];
    const kind = g % 4;
    if (kind === 0 || kind === 1) {
      attributes.push({ name: 'objectClass', values: ['top', 'groupOfNames', 'posixGroup'] }, { name: 'cn', values: [cn] });
      attributes.push({ name: 'member', values: [...members, ...nested] });
      attributes.push({ name: 'gidNumber', values: [String(30000 + g)] });
    } else if (kind === 2) {
      attributes.push({ name: 'objectClass', values: ['top', 'groupOfUniqueNames'] }, { name: 'cn', values: [cn] });
      attributes.push({ name: 'uniqueMember', values: [...members, ...nested] });
    } else {
      attributes.push({ name: 'objectClass', values: ['top', 'group'] }, { name: 'cn', values: [cn] }, { name: 'sAMAccountName', values: [cn] });
      attributes.push({ name: 'groupType', values: ['-2147483646'] });
      attributes.push({ name: 'member', values: [...members, ...nested] });
    }
    attributes.push({ name: 'description', values: [`Group ${g}`] });
    entries.push({ dn: `cn=${cn},ou=groups,${BASE}`, attributes });
  }
  // A posixGroup with memberUid names only.
  entries.push({
    dn: `cn=posixonly,ou=groups,${BASE}`,
    attributes: [
      { name: 'objectClass', values: ['top', 'posixGroup'] }, { name: 'cn', values: ['posixonly'] },
      { name: 'gidNumber', values: ['31000'] }, { name: 'memberUid', values: ['user000', 'user001', 'user002'] },
    ],
  });
  return { ldif: writeLdif(entries, 'test export'), entries, passwords };
}

function byDn(entries: LdifEntry[]): Map<string, LdifEntry> {
  return new Map(entries.map((e) => [normalizeDn(e.dn)!, e]));
}

function valueSet(entry: LdifEntry, name: string): string[] {
  const values = groupAttributes(entry).get(name.toLowerCase()) ?? [];
  const dnValued = ['member', 'uniquemember'].includes(name.toLowerCase());
  return values.map((v) => (dnValued ? normalizeDn(v.value.toString('utf8'))! : v.value.toString('base64'))).sort();
}

describe('LDIF import and export through the CLI', () => {
  let server: ServerProcess;
  let tenant: Tenant;
  let storage: { url: string; drop(): Promise<void> };
  let fx: Fixture;
  let home: { home: string; remove(): void };
  const store = () => ['--home', server.home, '--storage', storage.url];

  async function exportEntries(...extra: string[]): Promise<LdifEntry[]> {
    const out = join(server.home, `export-${randomBytes(4).toString('hex')}.ldif`);
    const r = await runCli(['directory', 'export-ldif', ...store(), '--output-file', out, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return parseLdif(readFileSync(out));
  }

  before(async () => {
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url });
    tenant = await tenantOf(server);
    fx = await buildLdif();
  });

  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
  });

  it('a dry run reports the counts and writes nothing', async () => {
    const file = join(server.home, 'import.ldif');
    writeFileSync(file, fx.ldif);
    const r = await runCli(['directory', 'import-ldif', file, ...store(), '--password-scrypt-log-n', '10', '--dry-run', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { dryRun: boolean; users: number; groups: number; nestedGroups: number; skipped: number; entriesKept: number };
    assert.equal(result.dryRun, true);
    assert.equal(result.users, USERS);
    assert.equal(result.groups, GROUPS + 1);
    assert.equal(result.nestedGroups, GROUPS);
    // The base and containers are kept and served as they are (issue 8, item 2); nothing is skipped.
    assert.equal(result.skipped, 0);
    assert.equal(result.entriesKept, 4);
    const exported = await exportEntries();
    // The bootstrap admin, and the layout's base and users container above it.
    assert.deepEqual(exported.map((e) => e.dn), ['dc=keyhaven,dc=local', 'ou=people,dc=keyhaven,dc=local', 'uid=admin,ou=people,dc=keyhaven,dc=local']);
  });

  it('imports every user and group in one audited transaction', async () => {
    const r = await runCli(['directory', 'import-ldif', join(server.home, 'import.ldif'), ...store(), '--password-scrypt-log-n', '10', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { users: number; groups: number; passwords: Record<string, number> };
    assert.equal(result.users, USERS);
    assert.equal(result.groups, GROUPS + 1);
    assert.equal(Object.keys(result.passwords).length, SCHEMES.length);
    const audit = await runCli(['audit', 'list', ...store(), '--action', 'directory.import', '-o', 'json']);
    assert.equal(audit.code, 0, audit.stderr);
    const records = JSON.parse(audit.stdout) as { actor: string; details: { users: number } }[];
    assert.equal(records.length, 1);
    assert.equal(records[0]!.actor, 'system');
    assert.equal(records[0]!.details.users, USERS);
  });

  it('DNs and attributes survive a round trip through export', async () => {
    const exported = byDn(await exportEntries());
    for (const original of parseLdif(fx.ldif)) {
      const classes = valueSet(original, 'objectClass').map((v) => Buffer.from(v, 'base64').toString().toLowerCase());
      if (!classes.some((c) => ['inetorgperson', 'user', 'groupofnames', 'groupofuniquenames', 'posixgroup', 'group'].includes(c))) continue;
      const back = exported.get(normalizeDn(original.dn)!);
      assert.ok(back, `exported ${original.dn}`);
      assert.equal(back.dn, original.dn, 'the DN exactly as imported');
      for (const name of groupAttributes(original).keys()) {
        if (name === 'userpassword') continue;
        assert.deepEqual(valueSet(back, name), valueSet(original, name), `${original.dn}: ${name}`);
      }
    }
    assert.ok(![...exported.values()].some((e) => groupAttributes(e).has('userpassword')), 'no hashes unless asked');
  });

  it('every user signs in with the original password, and the imported hash is then replaced by Keyhaven\'s argon2id', async () => {
    const before = await exportEntries('--include-password-hashes');
    const legacy = before.filter((e) => (groupAttributes(e).get('userpassword')?.[0]?.value.toString() ?? '').match(/^\{(SSHA|SSHA256|SSHA512|CRYPT|PBKDF2-SHA512|ARGON2)\}/));
    assert.ok(legacy.length >= USERS - Math.ceil(USERS / SCHEMES.length) - 1, `legacy hashes stored: ${legacy.length}`);
    for (const [username, password] of fx.passwords) {
      const { status, body } = await postForm(tenant.tokenUrl, {
        grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username, password, scope: `${tenant.url}/graph//.default`,
      });
      assert.equal(status, 200, `${username}: ${JSON.stringify(body)}`);
    }
    const { status } = await postForm(tenant.tokenUrl, {
      grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'user001', password: 'wrong-password', scope: `${tenant.url}/graph//.default`,
    });
    assert.notEqual(status, 200);
    const afterExport = await exportEntries('--include-password-hashes');
    const hashBefore = new Map(before.map((e) => [e.dn, groupAttributes(e).get('userpassword')?.[0]?.value.toString()]));
    for (const e of afterExport) {
      const pw = groupAttributes(e).get('userpassword')?.[0]?.value.toString();
      if (pw === undefined) continue;
      // Exported as OpenLDAP's pw-argon2 writes it; a fresh salt, so never the imported value.
      assert.match(pw, /^\{ARGON2\}\$argon2id\$v=19\$m=1024,t=1,p=1\$/, `${e.dn} still has ${pw.slice(0, 12)}`);
      // The bootstrap admin was hashed by this server under its parameters; every imported user's changed.
      if (!e.dn.startsWith('uid=admin,')) assert.notEqual(pw, hashBefore.get(e.dn), `${e.dn} kept its imported hash`);
    }
  });

  it('a broken LDIF exits 1 with the line number and imports nothing', async () => {
    const count = (await exportEntries()).length;
    const badBase64 = [
      'version: 1', '', `dn: uid=newuser,ou=people,${BASE}`, 'objectClass: inetOrgPerson', 'uid: newuser', 'cn: New User', 'sn: User', '',
      `dn: uid=newuser2,ou=people,${BASE}`, 'objectClass: inetOrgPerson', 'uid: newuser2', 'cn: New', 'sn: User', 'jpegPhoto:: AB$=notbase64', '',
    ].join('\n');
    const unknownMember = [
      'version: 1', '', `dn: uid=newuser3,ou=people,${BASE}`, 'objectClass: inetOrgPerson', 'uid: newuser3', 'cn: New User', 'sn: User', '',
      `dn: cn=newgroup,ou=groups,${BASE}`, 'objectClass: groupOfNames', 'cn: newgroup', `member: uid=newuser3,ou=people,${BASE}`,
      `member: uid=nobody-here,ou=people,${BASE}`, '',
    ].join('\n');
    for (const [text, line, words] of [[badBase64, 14, /base64/], [unknownMember, 13, /nobody-here/]] as const) {
      const file = join(server.home, 'broken.ldif');
      writeFileSync(file, text);
      const r = await runCli(['directory', 'import-ldif', file, ...store(), '--password-scrypt-log-n', '10']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`line ${line}\\b`));
      assert.match(r.stderr, words);
      assert.equal((await exportEntries()).length, count, 'nothing imported');
    }
    // Importing the same file again: every name is taken, nothing changes.
    const again = await runCli(['directory', 'import-ldif', join(server.home, 'import.ldif'), ...store(), '--password-scrypt-log-n', '10']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /line \d+: .*already taken/);
    assert.equal((await exportEntries()).length, count);
  });
});
