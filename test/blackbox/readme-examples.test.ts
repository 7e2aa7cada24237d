// The README's examples, run as written against a live server started the way `npm start`
// starts one (a generated CA under ~/.keyhaven): the alias that puts `keyhaven` on PATH, the
// readiness check, signing in and the directory verbs, @azure/identity's token.mjs, the LDAP
// tools and the audit commands. The code blocks are taken from README.md itself; the only
// changes are the ports (the test server listens on free ones) — HOME is a temp directory whose
// .keyhaven is the server's home, so `~/.keyhaven/...` means what it says.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blackboxStorage, cleanEnv, ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of README.md, in order, with their language. */
function blocks(): { lang: string; text: string }[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/** The one block that contains `marker`. */
function block(marker: string, lang = 'sh'): string {
  const found = blocks().filter((b) => b.lang === lang && b.text.includes(marker));
  assert.equal(found.length, 1, `one ${lang} block in README.md with ${marker}`);
  return found[0]!.text;
}

function bash(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('README examples', () => {
  const user = mkdtempSync(join(tmpdir(), 'kh-readme-'));
  const home = join(user, '.keyhaven');
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;

  before(async () => {
    storage = await blackboxStorage(home);
    // No test CA: the server generates its own under ~/.keyhaven/tls, as on a fresh clone.
    server = await startServerProcess({ home, storage: storage.url, testCa: false });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    rmSync(user, { recursive: true, force: true });
  });

  it('quick start, signing in, token.mjs, LDAP and audit examples run as written', async () => {
    const ports = (text: string) =>
      text.replaceAll('localhost:8443', `localhost:${server.port}`).replaceAll('localhost:3389', `localhost:${server.ldapPort}`).replaceAll('localhost:3636', `localhost:${server.ldapsPort}`);
    const aliasLine = block('alias keyhaven=').split('\n').find((l) => l.startsWith('alias keyhaven='));
    assert.ok(aliasLine, 'the README says how to put keyhaven on PATH');
    // token.mjs beside a node_modules that has @azure/identity, as the README says it may sit.
    const work = join(user, 'work');
    mkdirSync(work);
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
    writeFileSync(join(work, 'token.mjs'), ports(block('token.mjs', 'js')));
    const runToken = /`(NODE_EXTRA_CA_CERTS=[^`]*node token\.mjs)`/.exec(README)?.[1];
    assert.ok(runToken, 'the README says how to run token.mjs');

    const script = [
      'set -euo pipefail',
      'shopt -s expand_aliases',
      // The alias as the README gives it, typed in the checkout ($PWD).
      `cd ${JSON.stringify(ROOT)}`,
      aliasLine,
      'cd "$WORK"',
      'echo "== readyz"',
      ports(block('curl --cacert ~/.keyhaven/tls/ca.pem')),
      'echo "== signing in"',
      ports(block('keyhaven login --server')),
      'echo "== token.mjs"',
      ports(runToken),
      'echo "== ldap"',
      ports(block('ldapwhoami')),
      'echo "== audit"',
      block('keyhaven audit list --actor admin'),
    ].join('\n');
    // Nothing trusted beforehand: the README's commands name the CA themselves. The audit
    // commands read ~/.keyhaven by default; on PostgreSQL they are told the server's storage.
    const env = cleanEnv({ HOME: user, WORK: work, KEYHAVEN_CONFIG_DIR: join(user, 'config') });
    for (const trust of ['NODE_EXTRA_CA_CERTS', 'LDAPTLS_CACERT', 'REQUESTS_CA_BUNDLE']) delete env[trust];
    if (!storage.url.startsWith('sqlite:')) env.KEYHAVEN_STORAGE = storage.url;
    const r = await bash(script, env, work);
    assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const section = (name: string) => r.stdout.split(`== ${name}\n`)[1]!.split('\n== ')[0]!;
    assert.match(section('readyz'), /"status":"ready"/);
    // The member list table names Ada with her object id; the service principal got a token.
    assert.match(section('signing in'), /Ada Lovelace +user +ada@keyhaven\.local +[0-9a-f-]{36}/);
    assert.match(section('signing in'), /"accessToken": "ey/);
    assert.match(section('token.mjs'), /token: 'ey/);
    assert.match(section('ldap'), /^dn:uid=ada,ou=people,dc=keyhaven,dc=local$/m);
    assert.match(section('ldap'), /^uid: ada$/m);
    const audit = section('audit');
    assert.match(audit, /"action": "user\.create"/); // admin created Ada: found by name
    assert.match(audit, /"ok": true/);
  });
});
