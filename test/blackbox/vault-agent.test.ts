// The seed's flow end to end (shared/seeds: "a VM's managed identity reads a Key Vault secret"):
// the server's embedded metadata agent gives its machine's identity a token, which reads a vault
// secret — by curl exactly as the seed writes it, by @azure/identity's ManagedIdentityCredential
// with @azure/keyvault-secrets' SecretClient, and by Python's azure.identity +
// azure.keyvault.secrets from Debian's python3-azure. The access policy grants get and set:
// listing is refused with 403.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { decodeJwt } from 'jose';
import { cleanEnv, ROOT, TEST_CA_CERT } from '../helpers/server-process.js';
import { startVaultSuite, type VaultSuite } from './vault-test-client.js';
import { freePort } from '../helpers/free-port.js';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 90_000, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

const PYTHON = `
import sys
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
client = SecretClient(vault_url=sys.argv[1], credential=ManagedIdentityCredential())
client.set_secret("python-set", sys.argv[2])
print(client.get_secret("SQLPasswd").value)
`;

describe("the seed's flow: a machine's managed identity reads a vault secret through the metadata agent", () => {
  let s: VaultSuite;
  let agentPort: number;
  let principal: string;
  const vault = 'kh-seed-vault';
  const value = `Pa55-${randomBytes(12).toString('hex')}`;
  const agentToken = async (resource: string) => {
    const r = await run('curl', ['-sS', `http://localhost:${agentPort}/oauth2/token`, '--data', `resource=${resource}`, '-H', 'Metadata:true'], cleanEnv());
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { access_token: string }).access_token;
  };

  before(async () => {
    agentPort = await freePort();
    s = await startVaultSuite({ args: ['--agent-enabled', 'true', '--agent-port', String(agentPort)] });
    principal = String(decodeJwt(await agentToken('https://vault.azure.net')).oid);
    const created = await s.createVault(vault, { accessPolicies: [{ tenantId: s.t.tenantId, objectId: principal, permissions: { secrets: ['get', 'set'] } }] });
    assert.equal(created.status, 201, created.text);
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = `http://127.0.0.1:${agentPort}`;
  });
  after(async () => {
    await s?.stop();
  });

  it('curl: a token from http://localhost:50342/oauth2/token for https://vault.azure.net, then GET …/secrets/SQLPasswd?api-version=2016-10-01', async () => {
    const token = await agentToken('https://vault.azure.net');
    const set = await s.kv(token, 'PUT', vault, '/secrets/SQLPasswd?api-version=2016-10-01', { value });
    assert.equal(set.status, 200, set.text);
    const url = `https://localhost:${s.port}/vaults/${vault}/secrets/SQLPasswd?api-version=2016-10-01`;
    const got = await run('curl', ['-sS', '--cacert', TEST_CA_CERT, url, '-H', `Authorization: Bearer ${token}`], cleanEnv());
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { value: string }).value, value);
    // get and set only: listing is refused.
    const list = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', TEST_CA_CERT, `https://localhost:${s.port}/vaults/${vault}/secrets?api-version=2016-10-01`, '-H', `Authorization: Bearer ${token}`], cleanEnv());
    assert.equal(list.stdout, '403');
  });

  it('@azure/identity ManagedIdentityCredential with SecretClient at the vaultUri', async () => {
    const client = new SecretClient(`https://${vault}.vault.localhost:${s.port}`, new ManagedIdentityCredential());
    assert.equal((await client.getSecret('SQLPasswd')).value, value);
    await client.setSecret('node-set', 'set through the agent');
    const listing = client.listPropertiesOfSecrets().next();
    await assert.rejects(listing, (err: Error & { statusCode?: number }) => err.statusCode === 403);
  });

  it("Python's ManagedIdentityCredential with azure.keyvault.secrets", async () => {
    const env = cleanEnv({ AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${agentPort}`, REQUESTS_CA_BUNDLE: TEST_CA_CERT });
    for (const k of ['MSI_ENDPOINT', 'MSI_SECRET', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) delete env[k];
    const r = await run('/usr/bin/python3', ['-c', PYTHON, `https://${vault}.vault.localhost:${s.port}`, 'from-python'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), value);
  });
});
