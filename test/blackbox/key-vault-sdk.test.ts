// The Key Vault data plane with real clients against a live server, the vault reached at its
// vaultUri https://{vault}.vault.localhost:{port} (libnss-myhostname resolves *.localhost):
//   - @azure/keyvault-secrets SecretClient, default options (its challenge policy checks that
//     the vault's host ends with "." + the challenge resource's host), ClientSecretCredential
//     against Keyhaven's authority: set, get, get by version, list over 60 secrets in pages,
//     versions, update, delete with the poller, get deleted, recover, delete again, purge,
//     backup and restore;
//   - Python azure.keyvault.secrets SecretClient with ClientSecretCredential('adfs', …);
//   - curl on the path form /vaults/{vault} with a token for the Azure alias https://vault.azure.net;
//   - the 401 challenge itself; and afterwards no value in the database files.
// Not here: ManagedIdentityCredential through the metadata agent (the agent is issue 11).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { cleanEnv, ROOT, TEST_CA_CERT } from '../helpers/server-process.js';
import { createServicePrincipal, type ServicePrincipalFixture } from '../helpers/tenant-fixtures.js';
import { assertNotStored, expectVaultError, startVaultSuite, type VaultSuite } from './vault-test-client.js';

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

const secretValue = () => `kv-${randomBytes(24).toString('hex')}`;

describe('Key Vault secrets with the Azure SDKs and curl', () => {
  let s: VaultSuite;
  let sp: ServicePrincipalFixture;
  const written: string[] = [];
  const vault = 'kh-sdk-vault';

  before(async () => {
    s = await startVaultSuite();
    sp = await createServicePrincipal(s.t, s.admin, 'kv-sdk-app');
    const created = await s.createVault(vault, { accessPolicies: [{ tenantId: s.t.tenantId, objectId: sp.servicePrincipalId, permissions: { secrets: ['all'] } }] });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.properties.vaultUri, `https://${vault}.vault.localhost:${s.port}/`);
  });
  after(async () => {
    await s?.stop();
  });

  it('answers a request without a token with the challenge the SDKs follow', async () => {
    const res = await s.kv(undefined, 'GET', vault, '/secrets?api-version=7.5');
    expectVaultError(res, 401, 'Unauthorized');
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, new RegExp(`^Bearer authorization="${s.publicUrl}/${s.t.tenantId}", resource="https://vault\\.localhost:${s.port}"`));
    // Nothing of the vault leaks before authentication, existing or not.
    const missing = await s.kv(undefined, 'GET', 'no-such-vault', '/secrets?api-version=7.5');
    expectVaultError(missing, 401, 'Unauthorized');
  });

  it('@azure/keyvault-secrets SecretClient drives the whole lifecycle', async () => {
    const credential = new ClientSecretCredential(s.t.tenantId, sp.appId, sp.secret, { authorityHost: s.t.url, disableInstanceDiscovery: true });
    const client = new SecretClient(`https://${vault}.vault.localhost:${s.port}`, credential);
    const v1 = secretValue();
    const v2 = secretValue();
    written.push(v1, v2);
    const first = await client.setSecret('db-password', v1, { contentType: 'text/plain', tags: { team: 'ml' } });
    assert.equal(first.value, v1);
    assert.equal(first.properties.contentType, 'text/plain');
    const second = await client.setSecret('db-password', v2);
    assert.notEqual(second.properties.version, first.properties.version);
    assert.equal((await client.getSecret('db-password')).value, v2);
    assert.equal((await client.getSecret('db-password', { version: first.properties.version! })).value, v1);

    // 60 more secrets, listed in pages of at most 25 with nextLink.
    for (let i = 0; i < 60; i++) {
      const v = secretValue();
      written.push(v);
      await client.setSecret(`bulk-${String(i).padStart(2, '0')}`, v);
    }
    let pages = 0;
    const names: string[] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage()) {
      pages++;
      assert.ok(page.length <= 25);
      names.push(...page.map((p) => p.name));
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.equal(names.length, 61);
    assert.equal(new Set(names).size, 61);
    const small: string[] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 7 })) small.push(...page.map((p) => p.name));
    assert.deepEqual(small.sort(), names.sort());

    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions('db-password')) versions.push(p.version!);
    assert.deepEqual(versions.sort(), [first.properties.version!, second.properties.version!].sort());

    const updated = await client.updateSecretProperties('db-password', second.properties.version!, { tags: { rotated: 'yes' }, contentType: 'application/x-password' });
    assert.deepEqual(updated.tags, { rotated: 'yes' });
    assert.equal(updated.contentType, 'application/x-password');

    const deleting = await client.beginDeleteSecret('db-password', { intervalInMs: 50 });
    const deleted = await deleting.pollUntilDone();
    assert.equal(deleted.name, 'db-password');
    assert.ok(deleted.recoveryId?.endsWith('/deletedsecrets/db-password'));
    assert.ok(deleted.scheduledPurgeDate! > deleted.deletedOn!);
    const gotDeleted = await client.getDeletedSecret('db-password');
    assert.equal(gotDeleted.name, 'db-password');
    // Setting a soft-deleted name: 409 Conflict, as Azure.
    await assert.rejects(client.setSecret('db-password', secretValue()), (err: { statusCode?: number; code?: string }) => err.statusCode === 409 && err.code === 'Conflict');
    const deletedNames: string[] = [];
    for await (const d of client.listDeletedSecrets()) deletedNames.push(d.name);
    assert.deepEqual(deletedNames, ['db-password']);

    const recovering = await client.beginRecoverDeletedSecret('db-password', { intervalInMs: 50 });
    await recovering.pollUntilDone();
    assert.equal((await client.getSecret('db-password')).value, v2);

    await (await client.beginDeleteSecret('db-password', { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedSecret('db-password');
    await assert.rejects(client.getDeletedSecret('db-password'), (err: { statusCode?: number }) => err.statusCode === 404);
    await assert.rejects(client.getSecret('db-password'), (err: { statusCode?: number; code?: string }) => err.statusCode === 404 && err.code === 'SecretNotFound');

    // Backup, purge, restore: the same versions and values come back.
    const backup = await client.backupSecret('bulk-00');
    assert.ok(backup instanceof Uint8Array && backup.length > 0);
    const before00 = await client.getSecret('bulk-00');
    await (await client.beginDeleteSecret('bulk-00', { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedSecret('bulk-00');
    const restored = await client.restoreSecretBackup(backup!);
    assert.equal(restored.name, 'bulk-00');
    const after00 = await client.getSecret('bulk-00');
    assert.equal(after00.value, before00.value);
    assert.equal(after00.properties.version, before00.properties.version);
    // A second restore over the live secret is refused.
    await assert.rejects(client.restoreSecretBackup(backup!), (err: { statusCode?: number }) => err.statusCode === 409);
    // A forged or altered blob is refused.
    const altered = Uint8Array.from(backup!);
    const mid = Math.floor(altered.length / 2);
    altered[mid] = altered[mid]! ^ 1;
    await assert.rejects(client.restoreSecretBackup(altered), (err: { statusCode?: number; code?: string }) => err.statusCode === 400 && err.code === 'BadParameter');
  });

  it('Python azure.keyvault.secrets SecretClient sets, gets and lists', async () => {
    const value = secretValue();
    written.push(value);
    const script = [
      'import sys',
      'from azure.identity import ClientSecretCredential',
      'from azure.keyvault.secrets import SecretClient',
      "cred = ClientSecretCredential('adfs', sys.argv[1], sys.argv[2], authority=sys.argv[3])",
      'client = SecretClient(vault_url=sys.argv[4], credential=cred)',
      "client.set_secret('py-secret', sys.stdin.readline().strip())",
      "got = client.get_secret('py-secret')",
      "names = sorted(p.name for p in client.list_properties_of_secrets())",
      "print(got.value == sys.argv[5], len(names), 'py-secret' in names)",
    ].join('\n');
    const child = execFile('/usr/bin/python3', ['-c', script, sp.appId, sp.secret, s.t.url, `https://${vault}.vault.localhost:${s.port}`, value], { env: cleanEnv({ REQUESTS_CA_BUNDLE: TEST_CA_CERT }), timeout: 120_000, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.end(`${value}\n`);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, stderr.slice(-3000));
    assert.equal(stdout.trim(), 'True 61 True');
  });

  it('curl reads a secret on the path form with a token for https://vault.azure.net', async () => {
    const token = await s.vaultToken(sp.appId, sp.secret, 'https://vault.azure.net/.default');
    const value = secretValue();
    written.push(value);
    const set = await s.kv(token, 'PUT', vault, '/secrets/SQLPasswd?api-version=2016-10-01', { value }, { form: 'path' });
    assert.equal(set.status, 200, set.text);
    const res = await run('curl', ['-sS', '--cacert', TEST_CA_CERT, '-H', `Authorization: Bearer ${token}`, `${s.t.url}/vaults/${vault}/secrets/SQLPasswd?api-version=2016-10-01`], cleanEnv());
    assert.equal(res.code, 0, res.stderr);
    const body = JSON.parse(res.stdout) as { value: string; id: string };
    assert.equal(body.value, value);
    assert.equal(body.id, `https://${vault}.vault.localhost:${s.port}/secrets/SQLPasswd/${set.body.id.split('/').pop()}`);
    // curl resolves *.localhost itself: the host form works the same.
    const hostForm = await run('curl', ['-sS', '--cacert', TEST_CA_CERT, '-H', `Authorization: Bearer ${token}`, `https://${vault}.vault.localhost:${s.port}/secrets/SQLPasswd?api-version=7.5`], cleanEnv());
    assert.equal((JSON.parse(hostForm.stdout) as { value: string }).value, value);
  });

  it('audits every read of a value by reference, never the value', async () => {
    const token = await s.vaultToken(sp.appId, sp.secret);
    const get = await s.kv(token, 'GET', vault, '/secrets/SQLPasswd?api-version=7.5');
    assert.equal(get.status, 200);
    const version = (get.body.id as string).split('/').pop()!;
    const { runCli } = await import('../helpers/server-process.js');
    const audit = await runCli(['audit', 'list', '--home', s.home, '--storage', s.storage.url, '--action', 'secret.get', '--top', '10000']);
    assert.equal(audit.code, 0, audit.stderr);
    const records = JSON.parse(audit.stdout) as { actor: string; target: string; source: string; details: Record<string, string> }[];
    const mine = records.filter((r) => r.target === `${vault}/SQLPasswd/${version}`);
    assert.ok(mine.length >= 2, audit.stdout.slice(0, 2000));
    assert.equal(mine[0]!.actor, sp.servicePrincipalId);
    assert.ok(mine[0]!.source.length > 0);
    for (const v of written) assert.ok(!audit.stdout.includes(v));
  });

  it('leaves no secret value in the database, in plain text, base64 or hex', async () => {
    assert.ok(written.length > 60);
    // The server keeps running: the WAL still holds what was written.
    assertNotStored(s.storage.url, written);
    for (const v of written) assert.ok(!s.server.stdout().includes(v) && !s.server.stderr().includes(v), 'a value reached the log');
  });
});
