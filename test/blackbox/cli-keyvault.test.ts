// `keyhaven keyvault …` against a live server, in-process through main() as the other CLI
// suites run it: create/show/list/delete of a vault, secret set/show/list as the vault's
// creator (who gets every secret permission), and `set-policy --secret-permissions get set`
// for a service principal, which may then get and set but not list — the seed's flow.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { TEST_CA_CERT } from '../helpers/server-process.js';
import { createServicePrincipal, type ServicePrincipalFixture } from '../helpers/tenant-fixtures.js';
import { assertNotStored, startVaultSuite, type VaultSuite } from './vault-test-client.js';

describe('keyhaven keyvault', () => {
  let s: VaultSuite;
  let sp: ServicePrincipalFixture;
  const work = mkdtempSync(join(tmpdir(), 'kh-cli-kv-'));
  const adminDir = join(work, 'admin');
  const spDir = join(work, 'sp');
  const values = ['cli-value-4f1c9a7e2b8d6035c1e7a9f2', 'cli-value-from-file-93d1b7a0c5e2f8a4'];

  async function run(configDir: string, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'keyhaven', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { KEYHAVEN_CONFIG_DIR: configDir } });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  before(async () => {
    s = await startVaultSuite();
    sp = await createServicePrincipal(s.t, s.admin, 'kv-cli-app');
    const a = await run(adminDir, 'login', '--server', s.t.url, '--ca-file', TEST_CA_CERT, '-u', 'admin', '-p', s.t.adminPassword);
    assert.equal(a.code, 0, a.stderr);
    const b = await run(spDir, 'login', '--server', s.t.url, '--ca-file', TEST_CA_CERT, '--service-principal', '-u', sp.appId, '-p', sp.secret, '--tenant', s.t.tenantId);
    assert.equal(b.code, 0, b.stderr);
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('creates, shows and lists a vault', async () => {
    const created = await run(adminDir, 'keyvault', 'create', '-n', 'kh-cli', '-g', 'kv-rg', '--retention-days', '30');
    assert.equal(created.code, 0, created.stderr);
    // *.localhost resolves here (libnss-myhostname): no warning about the name.
    assert.equal(created.stderr, '');
    const vault = created.json();
    assert.equal(vault.properties.vaultUri, `https://kh-cli.vault.localhost:${s.port}/`);
    assert.equal(vault.properties.softDeleteRetentionInDays, 30);
    assert.equal(vault.properties.accessPolicies.length, 1);
    const shown = await run(adminDir, 'keyvault', 'show', '-n', 'kh-cli');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.json().id, vault.id);
    const listed = await run(adminDir, 'keyvault', 'list', '-o', 'tsv', '--query', '[].name');
    assert.equal(listed.stdout.trim(), 'kh-cli');
    const bad = await run(adminDir, 'keyvault', 'create', '-n', 'a--b', '-g', 'kv-rg');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR: .*vault name/);
  });

  it('sets, shows and lists secrets', async () => {
    const set = await run(adminDir, 'keyvault', 'secret', 'set', '--vault-name', 'kh-cli', '-n', 'SQLPasswd', '--value', values[0]!);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json().value, values[0]);
    const file = join(work, 'value.txt');
    writeFileSync(file, `${values[1]}\n`, { mode: 0o600 });
    assert.equal((await run(adminDir, 'keyvault', 'secret', 'set', '--vault-name', 'kh-cli', '-n', 'from-file', '--value', `@${file}`)).code, 0);
    const shown = await run(adminDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'from-file', '--query', 'value', '-o', 'tsv');
    assert.equal(shown.stdout.trim(), values[1]);
    const byVersion = await run(adminDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd', '--secret-version', set.json().version);
    assert.equal(byVersion.json().value, values[0]);
    const list = await run(adminDir, 'keyvault', 'secret', 'list', '--vault-name', 'kh-cli');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json().map((x: { name: string }) => x.name).sort(), ['SQLPasswd', 'from-file']);
    assert.ok(!list.stdout.includes(values[0]!), 'a listing holds no value');
    const missing = await run(adminDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'nope');
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /^ERROR: A secret with \(name\/id\) nope was not found/);
  });

  it('set-policy --secret-permissions get set: the principal gets and sets, and may not list', async () => {
    const before = await run(spDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd');
    assert.equal(before.code, 1);
    assert.match(before.stderr, /does not have secrets get permission/);
    const policy = await run(adminDir, 'keyvault', 'set-policy', '-n', 'kh-cli', '--object-id', sp.servicePrincipalId, '--secret-permissions', 'get', 'set');
    assert.equal(policy.code, 0, policy.stderr);
    assert.deepEqual(policy.json().properties.accessPolicies.find((p: { objectId: string }) => p.objectId === sp.servicePrincipalId).permissions.secrets, ['get', 'set']);
    const got = await run(spDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd', '--query', 'value', '-o', 'tsv');
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.trim(), values[0]);
    assert.equal((await run(spDir, 'keyvault', 'secret', 'set', '--vault-name', 'kh-cli', '-n', 'by-sp', '--value', 'cli-value-by-sp-0e5d7c3b1a9f')).code, 0);
    values.push('cli-value-by-sp-0e5d7c3b1a9f');
    const list = await run(spDir, 'keyvault', 'secret', 'list', '--vault-name', 'kh-cli');
    assert.equal(list.code, 1);
    assert.match(list.stderr, /^ERROR: .*does not have secrets list permission/);
    const badPerm = await run(adminDir, 'keyvault', 'set-policy', '-n', 'kh-cli', '--object-id', sp.servicePrincipalId, '--secret-permissions', 'read');
    assert.equal(badPerm.code, 2);
  });

  it('versions, attributes, soft delete, recovery, purge, backup and restore of a secret', async () => {
    const kv = (...args: string[]) => run(adminDir, 'keyvault', 'secret', ...args, '--vault-name', 'kh-cli');
    values.push('cli-value-second-version-7a2c4e6f8b0d');
    assert.equal((await kv('set', '-n', 'SQLPasswd', '--value', values.at(-1)!)).code, 0);
    const versions = await kv('list-versions', '-n', 'SQLPasswd');
    assert.equal(versions.json().length, 2, versions.stderr);
    const off = await kv('set-attributes', '-n', 'SQLPasswd', '--enabled', 'false');
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.json().attributes.enabled, false);
    const refused = await kv('show', '-n', 'SQLPasswd');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /disabled secret/);
    assert.equal((await kv('set-attributes', '-n', 'SQLPasswd', '--enabled', 'true')).code, 0);
    const backupFile = join(work, 'SQLPasswd.backup');
    assert.equal((await kv('backup', '-n', 'SQLPasswd', '-f', backupFile)).code, 0);
    const deleted = await kv('delete', '-n', 'SQLPasswd');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.ok(deleted.json().recoveryId.endsWith('/deletedsecrets/SQLPasswd'));
    assert.deepEqual((await kv('list-deleted')).json().map((d: { name: string }) => d.name), ['SQLPasswd']);
    assert.equal((await kv('recover', '-n', 'SQLPasswd')).code, 0);
    assert.equal((await kv('show', '-n', 'SQLPasswd', '--query', 'value', '-o', 'tsv')).stdout.trim(), values.at(-1));
    assert.equal((await kv('delete', '-n', 'SQLPasswd')).code, 0);
    assert.equal((await kv('purge', '-n', 'SQLPasswd')).code, 0);
    assert.equal((await kv('show', '-n', 'SQLPasswd')).code, 3);
    const restored = await kv('restore', '-f', backupFile);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal((await kv('show', '-n', 'SQLPasswd', '--query', 'value', '-o', 'tsv')).stdout.trim(), values.at(-1));
    assert.equal((await kv('list-versions', '-n', 'SQLPasswd')).json().length, 2);
  });

  it('delete-policy removes an access policy', async () => {
    const removed = await run(adminDir, 'keyvault', 'delete-policy', '-n', 'kh-cli', '--object-id', sp.servicePrincipalId);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.json().properties.accessPolicies.length, 1);
    const refused = await run(spDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd');
    assert.equal(refused.code, 1);
  });

  it('deletes a vault (soft delete), lists, recovers and purges it', async () => {
    assert.equal((await run(adminDir, 'keyvault', 'delete', '-n', 'kh-cli')).code, 0);
    assert.equal((await run(adminDir, 'keyvault', 'show', '-n', 'kh-cli')).code, 3);
    const gone = await run(adminDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd');
    assert.equal(gone.code, 3);
    const listed = await run(adminDir, 'keyvault', 'list-deleted', '--query', '[].name', '-o', 'tsv');
    assert.equal(listed.stdout.trim(), 'kh-cli');
    const recovered = await run(adminDir, 'keyvault', 'recover', '-n', 'kh-cli');
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal(recovered.json().properties.softDeleteRetentionInDays, 30);
    // The creator's access policy came back with the vault, and the secrets with it.
    assert.equal((await run(adminDir, 'keyvault', 'secret', 'show', '--vault-name', 'kh-cli', '-n', 'SQLPasswd', '--query', 'value', '-o', 'tsv')).stdout.trim(), values.at(-1));
    assert.equal((await run(adminDir, 'keyvault', 'delete', '-n', 'kh-cli')).code, 0);
    assert.equal((await run(adminDir, 'keyvault', 'purge', '-n', 'kh-cli')).code, 0);
    assert.equal((await run(adminDir, 'keyvault', 'list-deleted', '--query', '[].name', '-o', 'tsv')).stdout.trim(), '');
    assert.equal((await run(adminDir, 'keyvault', 'create', '-n', 'kh-cli', '-g', 'kv-rg')).code, 0);
    assert.deepEqual((await run(adminDir, 'keyvault', 'secret', 'list', '--vault-name', 'kh-cli')).json(), []);
    assertNotStored(s.storage.url, values);
  });
});

describe('keyhaven keyvault create where the vault name does not resolve', () => {
  let s: VaultSuite;
  const work = mkdtempSync(join(tmpdir(), 'kh-cli-kv-dns-'));

  before(async () => {
    // .invalid never resolves (RFC 6761 §6.4).
    s = await startVaultSuite({ args: ['--vault-dns-suffix', 'vault.invalid'] });
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('creates the vault and says how to make its name resolve', async () => {
    let stdout = '';
    let stderr = '';
    const run = (...args: string[]) => main(['node', 'keyhaven', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { KEYHAVEN_CONFIG_DIR: work } });
    assert.equal(await run('login', '--server', s.t.url, '--ca-file', TEST_CA_CERT, '-u', 'admin', '-p', s.t.adminPassword), 0, stderr);
    stdout = '';
    stderr = '';
    assert.equal(await run('keyvault', 'create', '-n', 'kh-nodns', '-g', 'kv-rg'), 0, stderr);
    assert.equal(JSON.parse(stdout).properties.vaultUri, `https://kh-nodns.vault.invalid:${s.port}/`);
    assert.match(stderr, /^WARNING: The vault's host name kh-nodns\.vault\.invalid does not resolve/);
    assert.match(stderr, /libnss-myhostname/);
    assert.match(stderr, /127\.0\.0\.1 kh-nodns\.vault\.invalid/);
  });
});
