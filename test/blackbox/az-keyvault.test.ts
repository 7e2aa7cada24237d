// Debian's Azure CLI against a Keyhaven vault: Keyhaven registered as a custom cloud whose
// Key Vault DNS suffix carries the port (`--suffix-keyvault-dns .vault.localhost:{port}`), since
// az builds a vault's URL as https://{name}{suffix}; then `az keyvault secret set|show|list`
// as a service principal with an access policy on the vault. Debian 12's azure-cli 2.45 cannot
// load its keyvault command module at all (`No module named 'azure.keyvault.v7_0'`: the
// vendored track-1 SDK is not packaged); there the test is skipped, saying so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, ROOT, TEST_CA_CERT } from '../helpers/server-process.js';
import { createServicePrincipal, type ServicePrincipalFixture } from '../helpers/tenant-fixtures.js';
import { assertNotStored, startVaultSuite, type VaultSuite } from './vault-test-client.js';

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

describe('az keyvault secret against a Keyhaven vault', () => {
  let s: VaultSuite;
  let sp: ServicePrincipalFixture;
  const work = mkdtempSync(join(tmpdir(), 'kh-az-kv-'));
  const value = 'az-value-5e0b7d2c9a4f1e8b3c6d';

  before(async () => {
    s = await startVaultSuite();
    sp = await createServicePrincipal(s.t, s.admin, 'kv-az-app');
    const created = await s.createVault('kh-az', { accessPolicies: [{ tenantId: s.t.tenantId, objectId: sp.servicePrincipalId, permissions: { secrets: ['get', 'list', 'set'] } }] });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('sets, shows and lists a secret', async (t) => {
    const env = cleanEnv({ AZURE_CONFIG_DIR: join(work, 'az'), REQUESTS_CA_BUNDLE: TEST_CA_CERT, AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_NO_COLOR: 'true' });
    const az = (...args: string[]) => run('az', [...args, '--only-show-errors'], env);
    const url = s.t.url;
    const register = await az('cloud', 'register', '--name', 'Keyhaven',
      '--endpoint-active-directory', `${url}/adfs`,
      '--endpoint-active-directory-resource-id', `${url}/`,
      '--endpoint-resource-manager', `${url}/`,
      '--endpoint-management', `${url}/`,
      '--endpoint-active-directory-graph-resource-id', `${url}/graph/`,
      '--suffix-keyvault-dns', `.vault.localhost:${s.port}`);
    assert.equal(register.code, 0, register.stderr);
    assert.equal((await az('cloud', 'set', '--name', 'Keyhaven')).code, 0);
    const probe = await az('keyvault', 'secret', 'list', '--help');
    if (probe.code !== 0 && /No module named 'azure\.keyvault/.test(probe.stderr)) {
      t.skip(`this azure-cli cannot load az keyvault: ${/No module named '[^']+'/.exec(probe.stderr)![0]}`);
      return;
    }
    assert.equal(probe.code, 0, probe.stderr);
    const login = await az('login', '--service-principal', '--username', sp.appId, `--password=${sp.secret}`, '--tenant', s.t.tenantId, '--allow-no-subscriptions'); // = : a secret may start with '-'
    assert.equal(login.code, 0, login.stderr);
    const set = await az('keyvault', 'secret', 'set', '--vault-name', 'kh-az', '--name', 'SQLPasswd', '--value', value);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(set.stdout).value, value);
    const show = await az('keyvault', 'secret', 'show', '--vault-name', 'kh-az', '--name', 'SQLPasswd', '--query', 'value', '-o', 'tsv');
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout.trim(), value);
    const list = await az('keyvault', 'secret', 'list', '--vault-name', 'kh-az', '--query', '[].name', '-o', 'tsv');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.trim(), 'SQLPasswd');
    const byId = await az('keyvault', 'secret', 'show', '--id', `https://kh-az.vault.localhost:${s.port}/secrets/SQLPasswd`, '--query', 'value', '-o', 'tsv');
    assert.equal(byId.stdout.trim(), value, byId.stderr);
    assertNotStored(s.storage.url, [value]);
  });
});
