// Attributes and object classes of imported entries that no published schema defines, as
// Python's ldap3 (default get_info and check_names) meets them. The fixture comes from another
// directory: Debian's slapd with a site schema (acme.schema: acmeBadge, acmeBadgeHolder)
// loads it with slapadd and exports it with slapcat; Keyhaven imports that export. The LDIF
// carries no schema, so Keyhaven publishes the names under its own arc
// (src/ldap/schema/imported-definitions.ts) — and ldap3 then requests and filters on them,
// the requests reach the server and the imported values come back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, ROOT, runCli, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'test/python/ldap3_schema_probe.py');
const READY = existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/ldap3/__init__.py') && existsSync('/usr/sbin/slapadd') && existsSync('/usr/sbin/slapcat');
const BASE = 'dc=keyhaven,dc=local';
const GRACE = `uid=grace,ou=people,${BASE}`;
const PASSWORD = `Grace-${randomBytes(6).toString('hex')}`;

const ACME_SCHEMA = `
attributetype ( 1.3.6.1.4.1.32473.1.1 NAME 'acmeBadge'
	DESC 'ACME badge number'
	EQUALITY caseIgnoreMatch
	SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.3.6.1.4.1.32473.2.1 NAME 'acmeBadgeHolder' SUP top AUXILIARY
	MAY acmeBadge )
`;

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe('ldap3 and names of imported entries that no schema defines (fixture from slapadd + slapcat)', { skip: READY ? false : 'Debian slapd and python3-ldap3 are not installed (.ci/run installs them)' }, () => {
  let dir: string;
  let home: { home: string; remove(): void };
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhaven-acme-'));
    mkdirSync(join(dir, 'db'));
    writeFileSync(join(dir, 'acme.schema'), ACME_SCHEMA);
    writeFileSync(join(dir, 'slapd.conf'), [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      `include ${join(dir, 'acme.schema')}`,
      'database ldif', `suffix "${BASE}"`, `directory ${join(dir, 'db')}`, '',
    ].join('\n'));
    const source = [
      `dn: ${BASE}`, 'objectClass: top', 'objectClass: domain', 'dc: keyhaven', '',
      `dn: ou=people,${BASE}`, 'objectClass: organizationalUnit', 'ou: people', '',
      `dn: ${GRACE}`, 'objectClass: inetOrgPerson', 'objectClass: posixAccount', 'objectClass: acmeBadgeHolder',
      'uid: grace', 'cn: Grace Hopper', 'sn: Hopper', 'title: Rear Admiral', 'employeeType: Officer', 'departmentNumber: 1906',
      'acmeBadge: G-1906', 'uidNumber: 21906', 'gidNumber: 21906', 'homeDirectory: /home/grace', `userPassword: ${ssha(PASSWORD)}`, '',
    ].join('\n');
    await run('/usr/sbin/slapadd', ['-f', join(dir, 'slapd.conf'), '-b', BASE], source);
    const exported = await run('/usr/sbin/slapcat', ['-f', join(dir, 'slapd.conf'), '-b', BASE]);
    assert.match(exported, /acmeBadge: G-1906/);

    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url, env: { KEYHAVEN_LDAP_ANONYMOUS_BIND: 'true', KEYHAVEN_LDAP_ANONYMOUS_SEARCH: 'true' } });
    const file = join(dir, 'export.ldif');
    writeFileSync(file, exported);
    const r = await runCli(['directory', 'import-ldif', file, '--home', server.home, '--storage', storage.url, '--password-scrypt-log-n', '10', '-o', 'json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes acmeBadge and acmeBadgeHolder under Keyhaven\'s arc; ldap3 requests and filters on them and the server answers', async () => {
    const sub = await ldapTool('ldapsearch', ['-x', '-ZZ', '-LLL', '-o', 'ldif-wrap=no', '-H', `ldap://localhost:${server.ldapPort}`, '-b', 'cn=Subschema', '-s', 'base', '(objectClass=*)', 'attributeTypes', 'objectClasses']);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /^attributeTypes: \( 2\.25\.93290484750876975698434575656617420528\.3\.\d+ NAME 'acmeBadge' .*SYNTAX 1\.3\.6\.1\.4\.1\.1466\.115\.121\.1\.15 \)$/m);
    assert.match(sub.stdout, /^objectClasses: \( 2\.25\.93290484750876975698434575656617420528\.4\.\d+ NAME 'acmeBadgeHolder' .*SUP top AUXILIARY \)$/m);

    const input = JSON.stringify({
      server: { host: 'localhost', port: server.ldapPort, ca_file: TEST_CA_CERT },
      connections: [{
        label: 'grace', user: GRACE, password: PASSWORD,
        requests: [
          { label: 'by class', base: BASE, scope: 'sub', filter: '(&(objectClass=acmeBadgeHolder)(acmeBadge=G-19*))', attributes: ['acmeBadge', 'title', 'employeeType', 'departmentNumber', 'uniqueMember', 'memberUid'] },
        ],
      }],
    });
    const out = await new Promise<{ connections: { bound: boolean; requests: { answered?: boolean; result?: number; client_side?: boolean; message?: string; entries?: { dn: string; attributes: Record<string, string[]> }[] }[] }[] }>((resolve, reject) => {
      const child = execFile(PYTHON, [SCRIPT], { timeout: 60_000, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
      child.stdin!.end(input);
    });
    const c = out.connections[0]!;
    assert.equal(c.bound, true, JSON.stringify(c));
    const r = c.requests[0]!;
    assert.notEqual(r.client_side, true, r.message);
    assert.deepEqual([r.answered, r.result, r.entries?.length], [true, 0, 1], JSON.stringify(r));
    const a = r.entries![0]!.attributes;
    assert.equal(r.entries![0]!.dn.toLowerCase(), GRACE);
    assert.deepEqual([a.acmeBadge, a.title, a.employeeType, a.departmentNumber], [['G-1906'], ['Rear Admiral'], ['Officer'], ['1906']]);
  });
});
