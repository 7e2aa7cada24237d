// `keyhaven run` against a live server, as a real process (bin/keyhaven.js): secrets read with the
// CLI login, handed to the child's environment and masked in its stdout and stderr (raw and
// base64), the child's exit code passed through; a missing secret is one ERROR line before the
// command starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { main } from '../../src/cli/main.js';
import { TEST_CA_CERT } from '../helpers/server-process.js';
import { startVaultSuite, type VaultSuite } from './vault-test-client.js';
import { freePort } from '../helpers/free-port.js';

const BIN = join(process.cwd(), 'bin', 'keyhaven.js');

function cli(configDir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: configDir, KEYHAVEN_CONFIG_DIR: configDir, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('keyhaven run', () => {
  let s: VaultSuite;
  const work = mkdtempSync(join(tmpdir(), 'kh-cli-run-'));
  const value = 'db-pw-5c1e9a7f3b2d8064';

  async function inproc(...args: string[]) {
    let stderr = '';
    const code = await main(['node', 'keyhaven', ...args], { stdout: () => {}, stderr: (t) => void (stderr += t), env: { KEYHAVEN_CONFIG_DIR: work } });
    assert.equal(code, 0, stderr);
  }

  before(async () => {
    s = await startVaultSuite();
    await inproc('login', '--server', s.t.url, '--ca-file', TEST_CA_CERT, '-u', 'admin', '-p', s.t.adminPassword);
    await inproc('keyvault', 'create', '-n', 'kh-run', '-g', 'kv-rg');
    await inproc('keyvault', 'secret', 'set', '--vault-name', 'kh-run', '-n', 'db-password', '--value', value);
    await inproc('keyvault', 'secret', 'set', '--vault-name', 'kh-run', '-n', 'pin', '--value', '123');
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('masks the value on stdout and stderr, raw and base64, and passes the exit code through', async () => {
    const r = await cli(work, ['run', '--secret', 'DB=kh-run/db-password', '--', '/bin/sh', '-c', 'echo "$DB"; printf %s "$DB" | base64; echo "$DB" >&2; echo "len ${#DB}"; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, `***\n***\nlen ${value.length}\n`);
    assert.equal(r.stderr, '***\n');
    assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value));
  });

  it('a value under 4 characters is not masked, with a warning naming the variable only', async () => {
    const r = await cli(work, ['run', '--secret', 'PIN=kh-run/pin', '--', '/bin/sh', '-c', 'test "$PIN" = 123']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^WARNING: .*PIN .*not masked/);
    assert.ok(!r.stderr.includes('123'));
  });

  it('a missing secret is one ERROR line and the command never starts', async () => {
    const marker = join(work, 'started');
    const r = await cli(work, ['run', '--secret', 'X=kh-run/nope', '--', '/bin/sh', '-c', `touch ${marker}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^ERROR: .*nope.*\n$/);
    assert.equal(r.stderr.split('\n').length, 2);
    assert.equal(r.stdout, '');
    assert.throws(() => rmSync(marker), /ENOENT/);
  });
});

describe('keyhaven run --identity (the embedded metadata agent)', () => {
  let s: VaultSuite;
  let agentPort: number;
  const work = mkdtempSync(join(tmpdir(), 'kh-cli-run-id-'));
  const value = 'machine-read-0b7d3e9c41a2';

  async function inproc(...args: string[]) {
    let stderr = '';
    const code = await main(['node', 'keyhaven', ...args], { stdout: () => {}, stderr: (t) => void (stderr += t), env: { KEYHAVEN_CONFIG_DIR: work } });
    assert.equal(code, 0, stderr);
  }

  before(async () => {
    agentPort = await freePort();
    s = await startVaultSuite({ args: ['--agent-enabled', 'true', '--agent-port', String(agentPort)] });
    const res = await fetch(`http://127.0.0.1:${agentPort}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    const principal = String(decodeJwt(((await res.json()) as { access_token: string }).access_token).oid);
    await inproc('login', '--server', s.t.url, '--ca-file', TEST_CA_CERT, '-u', 'admin', '-p', s.t.adminPassword);
    await inproc('keyvault', 'create', '-n', 'kh-run-id', '-g', 'kv-rg');
    await inproc('keyvault', 'secret', 'set', '--vault-name', 'kh-run-id', '-n', 'db-password', '--value', value);
    await inproc('keyvault', 'set-policy', '-n', 'kh-run-id', '--object-id', principal, '--secret-permissions', 'get');
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("reads the secret as the machine's identity and masks it", async () => {
    const r = await cli(work, ['run', '--identity', '--secret', 'DB=kh-run-id/db-password', '--', '/bin/sh', '-c', `echo "$DB"; test "$DB" = '${value}'`], { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${agentPort}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '***\n');
  });

  it('an agent that does not answer is one ERROR line', async () => {
    const r = await cli(work, ['run', '--identity', '--secret', 'DB=kh-run-id/db-password', '--', '/bin/true'], { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${await freePort()}` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^ERROR: the metadata agent .* did not answer\n$/);
  });
});
