// Keyhaven's cn=Subschema against Debian's slapd loaded with the same schema files (core,
// cosine, inetorgperson, nis, msuser, and scripts/ldap-schema's openssh-lpk, sudo and
// keyhaven): both read with ldapsearch, every definition Keyhaven publishes that slapd also
// has must be slapd's text exactly, but for the two documented changes
// (scripts/generate-ldap-schema.ts: posixGroup AUXILIARY as RFC 2307bis has it, and
// defaultNamingContext operational, which slapd loads from no file). Catches a hand edit of
// the generated src/ldap/schema/*.ts and a drift from Debian's files.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, ROOT, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

const SLAPD = '/usr/sbin/slapd';
const FILES = ['/etc/ldap/schema/core.schema', '/etc/ldap/schema/cosine.schema', '/etc/ldap/schema/inetorgperson.schema', '/etc/ldap/schema/nis.schema',
  '/etc/ldap/schema/msuser.schema', join(ROOT, 'scripts/ldap-schema/openssh-lpk.schema'), join(ROOT, 'scripts/ldap-schema/sudo.schema'),
  join(ROOT, 'scripts/ldap-schema/keyhaven.schema')];
const HAVE_SLAPD = existsSync(SLAPD) && FILES.every((f) => existsSync(f));
const KINDS = ['attributeTypes', 'objectClasses', 'ldapSyntaxes', 'matchingRules'] as const;

/** kind → OID → text. */
type Subschema = Record<(typeof KINDS)[number], Map<string, string>>;

async function readSubschema(url: string, extra: string[] = []): Promise<Subschema> {
  const res = await ldapTool('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', url, ...extra, '-b', 'cn=Subschema', '-s', 'base', '(objectClass=*)', ...KINDS]);
  assert.equal(res.code, 0, res.stderr);
  const out = Object.fromEntries(KINDS.map((k) => [k, new Map<string, string>()])) as Subschema;
  for (const line of res.stdout.split('\n')) {
    const m = /^(\w+): \( (\S+) (.*)$/.exec(line);
    if (m && (KINDS as readonly string[]).includes(m[1]!)) out[m[1] as (typeof KINDS)[number]].set(m[2]!, `( ${m[2]} ${m[3]}`);
  }
  return out;
}

describe('cn=Subschema: Keyhaven and slapd with the same schema files', { skip: HAVE_SLAPD ? false : 'Debian slapd is not installed (.ci/run installs it)' }, () => {
  let dir: string;
  let slapd: ChildProcess | undefined;
  let slapdUrl: string;
  let home: { home: string; remove(): void };
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhaven-slapd-schema-'));
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, [...FILES.map((f) => `include ${f}`), `pidfile ${join(dir, 'slapd.pid')}`, ''].join('\n'));
    slapdUrl = `ldapi://${encodeURIComponent(join(dir, 'ldapi'))}`;
    slapd = spawn(SLAPD, ['-f', conf, '-h', slapdUrl, '-d', '0'], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while ((await ldapTool('ldapsearch', ['-x', '-LLL', '-H', slapdUrl, '-b', '', '-s', 'base', '1.1'])).code !== 0) {
      assert.ok(Date.now() < deadline && slapd.exitCode === null, 'slapd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url, env: { KEYHAVEN_LDAP_ANONYMOUS_BIND: 'true', KEYHAVEN_LDAP_ANONYMOUS_SEARCH: 'true' } });
  });
  after(async () => {
    slapd?.kill('SIGTERM');
    await server?.stop();
    await storage?.drop();
    home?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes slapd\'s text for every definition both have, apart from the documented changes', async () => {
    const theirs = await readSubschema(slapdUrl);
    const ours = await readSubschema(`ldap://localhost:${server.ldapPort}`, ['-ZZ']);
    const changed: string[] = [];
    let same = 0;
    for (const kind of KINDS) {
      for (const [oid, text] of ours[kind]) {
        const slapdText = theirs[kind].get(oid);
        if (slapdText === undefined) continue;
        if (slapdText === text) same++;
        else changed.push(`${kind} ${oid}\n  slapd:    ${slapdText}\n  keyhaven: ${text}`);
      }
    }
    assert.ok(same >= 400, `only ${same} definitions in common`);
    assert.equal(changed.length, 2, changed.join('\n'));
    assert.ok(changed.some((c) => c.includes("NAME 'posixGroup'") && c.includes('keyhaven: ( 1.3.6.1.1.1.2.2 NAME \'posixGroup\' DESC \'Abstraction of a group of accounts\' SUP top AUXILIARY')), changed.join('\n'));
    assert.ok(changed.some((c) => c.includes("NAME 'defaultNamingContext'") && c.endsWith('SINGLE-VALUE NO-USER-MODIFICATION USAGE dSAOperation )')), changed.join('\n'));
    // Every standard (non-AD) type slapd has from these files is published; of msuser's, the served classes' closure.
    const missing = [...theirs.attributeTypes.keys()].filter((oid) => !ours.attributeTypes.has(oid) && !/^1\.2\.840\.113556\./.test(oid) && !/^1\.3\.6\.1\.4\.1\.4203\.(666|1\.12)\./.test(oid));
    assert.deepEqual(missing.filter((oid) => !/^1\.3\.6\.1\.4\.1\.42\.2\.27\.8\./.test(oid)), [], 'left out without a reason');
    for (const kind of ['ldapSyntaxes', 'matchingRules'] as const) for (const oid of theirs[kind].keys()) assert.ok(ours[kind].has(oid), `${kind} ${oid}`);
  });
});
