// The machine identity agent against a live server, with the real clients code written for Azure
// VMs uses: a machine resource with a system-assigned and a user-assigned identity is enrolled
// (`keyhaven agent join`), `keyhaven agent run` serves the metadata endpoint, and
//   - the seed's curl line (`curl http://localhost:50342/oauth2/token --data "resource=…" -H Metadata:true`,
//     here on the agent's port),
//   - @azure/identity's ManagedIdentityCredential (system-assigned, and user-assigned by client
//     id) with AZURE_POD_IDENTITY_AUTHORITY_HOST at the agent,
//   - Python's azure.identity.ManagedIdentityCredential from Debian's python3-azure,
//   - the App Service shape of a job endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER),
// get tokens the management API accepts. Negative cases as IMDS answers them; the agent keeps
// serving a cached token while the server is down and takes new audiences again once it is back;
// a revoked machine gets an error, not a token.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { blackboxStorage, cleanEnv, ROOT, runCli, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { startStreaming, type StreamingProcess } from '../helpers/streaming-process.js';
import { tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';
import { freePort } from '../helpers/free-port.js';

const CV = 'api-version=2022-11-01';
const MV = 'api-version=2023-01-31';
const VAULT = 'https://vault.azure.net';

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
cred = ManagedIdentityCredential(client_id=sys.argv[2]) if len(sys.argv) > 2 else ManagedIdentityCredential()
print(cred.get_token(sys.argv[1]).token)
`;

describe('machine identity agent (IMDS-compatible) with real clients', () => {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-agent-'));
  const stateDir = join(work, 'agent');
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let httpsPort: number;
  let t: Tenant;
  let admin: string;
  let agent: StreamingProcess;
  let agentUrl: string;
  let vmId: string;
  let system: string;
  let user: { clientId: string; principalId: string; id: string };

  const arm = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
  };
  const startServer = () => startServerProcess({ home, storage: storage.url, args: ['--https-port', String(httpsPort)] });
  const imds = (path: string, headers: Record<string, string> = { Metadata: 'true' }, init: RequestInit = {}) =>
    fetch(`${agentUrl}${path}`, { ...init, headers, signal: AbortSignal.timeout(30_000) });

  before(async () => {
    storage = await blackboxStorage(home);
    httpsPort = await freePort();
    server = await startServer();
    t = await tenantOf(server);
    admin = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const subs = await arm('GET', '/subscriptions?api-version=2019-11-01');
    const rg = `/subscriptions/${subs.body.value[0].subscriptionId}/resourceGroups/gpu-boxes`;
    assert.equal((await arm('PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' })).status, 201);
    const uai = await arm('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/training?${MV}`, { location: 'westeurope' });
    assert.equal(uai.status, 201, uai.text);
    user = { clientId: uai.body.properties.clientId, principalId: uai.body.properties.principalId, id: uai.body.id };
    vmId = `${rg}/providers/Microsoft.Compute/virtualMachines/gpu-01`;
    const vm = await arm('PUT', `${vmId}?${CV}`, { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [user.id]: {} } } });
    assert.equal(vm.status, 201, vm.text);
    system = vm.body.identity.principalId;
    const token = await arm('POST', `${vmId}/generateJoinToken?${CV}`, {});
    assert.equal(token.status, 200, token.text);
    const joined = await runCli(['agent', 'join', '--server', t.url, '--token', token.body.token, '--state-dir', stateDir, '--ca-file', TEST_CA_CERT]);
    assert.equal(joined.code, 0, joined.stderr);
    agent = startStreaming(process.execPath, [join(ROOT, 'bin/keyhaven.js'), 'agent', 'run', '--state-dir', stateDir, '--port', '0'], cleanEnv(), 600_000);
    const [, url] = await agent.stdoutMatch(/\{"listening":"(http:\/\/127\.0\.0\.1:\d+)"/);
    agentUrl = url!;
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = agentUrl;
  });
  after(async () => {
    agent?.child.kill('SIGTERM');
    await agent?.done;
    await server?.stop();
    await storage?.drop();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("the seed's curl line gets the machine's system-assigned identity a token the management API accepts", async () => {
    const curl = await run('curl', ['-sS', `${agentUrl}/oauth2/token`, '--data', `resource=${VAULT}`, '-H', 'Metadata:true'], cleanEnv());
    assert.equal(curl.code, 0, curl.stderr);
    const body = JSON.parse(curl.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'client_id', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'resource', 'token_type']);
    assert.equal(body.resource, VAULT);
    assert.equal(body.token_type, 'Bearer');
    assert.match(body.expires_on!, /^\d{10}$/, 'epoch seconds as a string of digits, as IMDS');
    const claims = decodeJwt(body.access_token!);
    assert.equal(claims.aud, VAULT);
    assert.equal(claims.oid, system);
    assert.equal(String(claims.xms_mirid).toLowerCase(), vmId.toLowerCase());
    assert.equal(body.client_id, claims.appid ?? claims.azp);

    const mgmt = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(`${t.url}/`)}`);
    assert.equal(mgmt.status, 200);
    const token = ((await mgmt.json()) as { access_token: string }).access_token;
    const subs = await fetch(`${t.url}/subscriptions?api-version=2019-11-01`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(subs.status, 200, await subs.text());
  });

  it('@azure/identity ManagedIdentityCredential: system-assigned and user-assigned by client id', async () => {
    const sys = await new ManagedIdentityCredential().getToken(`${VAULT}/.default`);
    assert.equal(decodeJwt(sys.token).oid, system);
    const ua = await new ManagedIdentityCredential({ clientId: user.clientId }).getToken(`${VAULT}/.default`);
    assert.equal(decodeJwt(ua.token).oid, user.principalId);
    assert.equal(decodeJwt(ua.token).appid ?? decodeJwt(ua.token).azp, user.clientId);
  });

  it("Python's azure.identity ManagedIdentityCredential (Debian's python3-azure)", async () => {
    const env = cleanEnv({ AZURE_POD_IDENTITY_AUTHORITY_HOST: agentUrl });
    for (const k of ['MSI_ENDPOINT', 'MSI_SECRET', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) delete env[k];
    const sys = await run('/usr/bin/python3', ['-c', PYTHON, VAULT], env);
    assert.equal(sys.code, 0, sys.stderr);
    assert.equal(decodeJwt(sys.stdout.trim()).oid, system);
    const ua = await run('/usr/bin/python3', ['-c', PYTHON, VAULT, user.clientId], env);
    assert.equal(ua.code, 0, ua.stderr);
    assert.equal(decodeJwt(ua.stdout.trim()).oid, user.principalId);
  });

  it('refuses as IMDS does: no Metadata header, X-Forwarded-For, an unknown identity (and the SDK gives up in seconds)', async () => {
    const noHeader = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}`, {});
    assert.equal(noHeader.status, 400);
    assert.deepEqual(await noHeader.json(), { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    const forwarded = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}`, { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' });
    assert.equal(forwarded.status, 400);
    const unknown = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}&client_id=0b4f9c1e-7d2a-4e3b-8c5f-6a1d9e2b3c4f`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { error: 'invalid_request', error_description: 'Identity not found' });
    for (const [path, status] of [
      ['/metadata/identity/oauth2/token?resource=x', 400], // api-version missing
      ['/metadata/identity/oauth2/token?api-version=2018-02-01', 400], // resource missing
      ['/metadata/identity/oauth2/token?api-version=1999-01-01&resource=x', 400],
      [`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}&client_id=not-a-guid`, 400],
      [`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}&client_id=${user.clientId}&object_id=${user.principalId}`, 400],
      ['/metadata/nothing', 404],
    ] as const) {
      const r = await imds(path);
      assert.equal(r.status, status, path);
      const body = (await r.json()) as Record<string, unknown>;
      assert.equal(typeof body.error, 'string', path);
    }
    const started = Date.now();
    await assert.rejects(new ManagedIdentityCredential({ clientId: '0b4f9c1e-7d2a-4e3b-8c5f-6a1d9e2b3c4f' }).getToken(`${VAULT}/.default`), /Identity not found|400/);
    assert.ok(Date.now() - started < 15_000, `gave up after ${Date.now() - started} ms`);
  });

  it('instance metadata names the machine; status says what is cached', async () => {
    const r = await imds('/metadata/instance?api-version=2021-02-01');
    assert.equal(r.status, 200);
    const { compute } = (await r.json()) as { compute: Record<string, string> };
    assert.equal(compute.name, 'gpu-01');
    assert.equal(compute.resourceGroupName, 'gpu-boxes');
    assert.equal(compute.resourceId?.toLowerCase(), vmId.toLowerCase());
    const status = await runCli(['agent', 'status', '--port', new URL(agentUrl).port]);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { cachedTokens: number; server: string; machine: { resourceId: string } };
    assert.ok(s.cachedTokens >= 3);
    assert.equal(s.server, t.url);
  });

  it('a job endpoint in the App Service shape: its own header secret, for @azure/identity in a child process', async () => {
    const minted = await runCli(['agent', 'job', 'create', '--client-id', user.clientId, '--ttl', '600', '--port', new URL(agentUrl).port]);
    assert.equal(minted.code, 0, minted.stderr);
    const job = JSON.parse(minted.stdout) as { id: string; env: Record<string, string> };
    const script = "const { ManagedIdentityCredential } = await import('@azure/identity'); const t = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default'); console.log(t.token);";
    const env = cleanEnv({ IDENTITY_ENDPOINT: job.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: job.env.IDENTITY_HEADER });
    delete env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    const child = await run(process.execPath, ['--input-type=module', '-e', script], env);
    assert.equal(child.code, 0, child.stderr);
    assert.equal(decodeJwt(child.stdout.trim()).oid, user.principalId, 'pinned to the job\'s identity');
    const wrong = await fetch(`${job.env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${VAULT}`, { headers: { 'X-IDENTITY-HEADER': 'not-the-secret' } });
    assert.equal(wrong.status, 401);
    const other = await fetch(`${job.env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${VAULT}&object_id=${system}`, { headers: { 'X-IDENTITY-HEADER': job.env.IDENTITY_HEADER! } });
    assert.equal(other.status, 400, 'the system identity is not the job\'s');
  });

  it('keyhaven login --identity (as az login --identity): the agent names the server; later tokens come from the agent', async () => {
    const env = { AZURE_POD_IDENTITY_AUTHORITY_HOST: agentUrl, KEYHAVEN_CONFIG_DIR: join(work, 'cli-identity') };
    const login = await runCli(['login', '--identity', '--ca-file', TEST_CA_CERT], { env });
    assert.equal(login.code, 0, login.stderr);
    const accounts = JSON.parse(login.stdout) as { user: { name: string; type: string }; tenantId: string }[];
    assert.deepEqual(accounts[0]!.user, { name: 'systemAssignedIdentity', type: 'servicePrincipal' });
    assert.equal(accounts[0]!.tenantId, t.tenantId);
    const token = await runCli(['account', 'get-access-token', '--resource', VAULT], { env });
    assert.equal(token.code, 0, token.stderr);
    assert.equal(decodeJwt((JSON.parse(token.stdout) as { accessToken: string }).accessToken).oid, system);

    const uaEnv = { ...env, KEYHAVEN_CONFIG_DIR: join(work, 'cli-identity-ua') };
    const ua = await runCli(['login', '--identity', '--client-id', user.clientId, '--ca-file', TEST_CA_CERT], { env: uaEnv });
    assert.equal(ua.code, 0, ua.stderr);
    const uaToken = await runCli(['account', 'get-access-token', '--resource', VAULT], { env: uaEnv });
    assert.equal(decodeJwt((JSON.parse(uaToken.stdout) as { accessToken: string }).accessToken).oid, user.principalId);
    const none = await runCli(['login', '--identity', '--client-id', '0b4f9c1e-7d2a-4e3b-8c5f-6a1d9e2b3c4f', '--ca-file', TEST_CA_CERT], { env: { ...env, KEYHAVEN_CONFIG_DIR: join(work, 'cli-none') } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^ERROR: .*Identity not found/);
  });

  it('keeps serving a cached token while the server is down, and new audiences once it is back; a revoked machine gets an error', async () => {
    const cached = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}`);
    const before = ((await cached.json()) as { access_token: string }).access_token;
    await server.stop();
    const during = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${VAULT}`);
    assert.equal(during.status, 200);
    assert.equal(((await during.json()) as { access_token: string }).access_token, before);
    const uncached = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(`${t.url}/graph/`)}`);
    assert.equal(uncached.status, 503, 'nothing cached for it and the server away');
    server = await startServer();
    const after = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(`${t.url}/graph/`)}`);
    assert.equal(after.status, 200, await after.clone().text());

    // Revoked: the next upstream request is refused (403, which no SDK retries).
    admin = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const machines = await arm('GET', `${vmId}/machines?${CV}`);
    assert.equal(machines.status, 200, machines.text);
    const revoked = await arm('POST', `${vmId}/machines/${machines.body.value[0].id}/revoke?${CV}`, {});
    assert.equal(revoked.status, 200, revoked.text);
    const refused = await imds(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://storage.azure.com/')}`);
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: string }).error, 'access_denied');
  });
});

describe('the embedded agent of `keyhaven serve` (the single-machine quick start)', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let agentPort: number;
  const start = () => startServerProcess({ home, storage: storage.url, args: ['--agent-enabled', 'true', '--agent-port', String(agentPort)] });
  const seedCurl = () => run('curl', ['-sS', `http://localhost:${agentPort}/oauth2/token`, '--data', `resource=${VAULT}`, '-H', 'Metadata:true'], cleanEnv());

  before(async () => {
    storage = await blackboxStorage(home);
    agentPort = await freePort();
    server = await start();
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it("answers the seed's curl line right after start with the host machine's identity, which holds no role; a restart keeps the machine", async () => {
    const first = await seedCurl();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /"access_token"/, first.stdout);
    const claims = decodeJwt((JSON.parse(first.stdout) as { access_token: string }).access_token);
    assert.equal(claims.aud, VAULT);
    assert.match(String(claims.xms_mirid), /\/resourceGroups\/keyhaven-host\/providers\/Microsoft\.Compute\/virtualMachines\/[A-Za-z0-9-]+$/i);
    // The host machine is an ordinary resource: the admin sees it and its identity.
    const t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const vm = await fetch(`${t.url}${String(claims.xms_mirid)}?${CV}`, { headers: { authorization: `Bearer ${admin}` } });
    const body = (await vm.json()) as { identity: { type: string; principalId: string } };
    assert.equal(body.identity.type, 'SystemAssigned');
    assert.equal(body.identity.principalId, claims.oid);
    // No role: the management API shows it no subscription.
    const mgmt = await fetch(`http://127.0.0.1:${agentPort}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(`${t.url}/`)}`, { headers: { Metadata: 'true' } });
    const token = ((await mgmt.json()) as { access_token: string }).access_token;
    const subs = await fetch(`${t.url}/subscriptions?api-version=2019-11-01`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(((await subs.json()) as { value: unknown[] }).value, []);

    await server.stop();
    server = await start();
    const again = await seedCurl();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /"access_token"/, again.stdout);
    const second = decodeJwt((JSON.parse(again.stdout) as { access_token: string }).access_token);
    assert.equal(second.oid, claims.oid, 'the same identity');
    assert.equal(second.kh_machine, claims.kh_machine, 'the same machine credential');
  });
});
