// The token service against a live server, with real clients: @azure/identity's
// ClientSecretCredential (MSAL underneath) for every audience, jose verifying every token
// against the published JWKS, a table of malformed and hostile requests, lockout, and a
// look at the database file for any trace of the credentials used.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, createServicePrincipal, graph, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

describe('token service', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let admin: string;
  let sp: ServicePrincipalFixture;
  const userPassword = 'Quiet-lantern-harbour-71';

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--lockout-base-delay-seconds', '2', '--lockout-threshold', '3'] });
    t = await tenantOf(server);
    admin = await userToken(t, 'admin', t.adminPassword);
    sp = await createServicePrincipal(t, admin, 'token-test-app');
    for (const name of ['locky', 'bystander']) {
      const res = await graph(t, admin, 'POST', '/users', {
        accountEnabled: true,
        displayName: name,
        mailNickname: name,
        userPrincipalName: `${name}@keyhaven.local`,
        passwordProfile: { password: userPassword, forceChangePasswordNextSignIn: false },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('ClientSecretCredential gets verifiable tokens for every audience and alias', async () => {
    const credential = new ClientSecretCredential(t.tenantId, sp.appId, sp.secret, { authorityHost: t.url, disableInstanceDiscovery: true });
    const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/v2.0/keys`));
    const port = new URL(t.url).port;
    const cases: [string, string][] = [
      [`${t.url}//.default`, `${t.url}/`],
      ['https://management.azure.com//.default', 'https://management.azure.com/'],
      ['https://management.core.windows.net//.default', 'https://management.core.windows.net/'],
      [`https://vault.vault.localhost:${port}/.default`, `https://vault.vault.localhost:${port}`],
      ['https://vault.azure.net/.default', 'https://vault.azure.net'],
      [`${t.url}/graph//.default`, `${t.url}/graph/`],
      ['https://graph.microsoft.com/.default', 'https://graph.microsoft.com'],
      [`api://${sp.appId}/.default`, `api://${sp.appId}`],
    ];
    for (const [scope, audience] of cases) {
      const token = await credential.getToken(scope);
      assert.ok(token, scope);
      const { payload, protectedHeader } = await jwtVerify(token.token, jwks, { issuer: `${t.url}/${t.tenantId}/v2.0`, audience, algorithms: ['RS256'] });
      assert.equal(protectedHeader.typ, 'JWT');
      assert.equal(payload.tid, t.tenantId);
      assert.equal(payload.azp, sp.appId);
      assert.equal(payload.oid, sp.servicePrincipalId);
      assert.equal(payload.idtyp, 'app');
      const lifetime = payload.exp! - payload.iat!;
      assert.ok(lifetime >= 3600 && lifetime <= 5400, `lifetime ${lifetime}`);
    }
  });

  it('v1 (resource=), client_secret_basic and the password grant answer as Entra does', async () => {
    const v1 = await postForm(`${t.url}/${t.tenantId}/oauth2/token`, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, resource: 'https://management.azure.com/' });
    assert.equal(v1.status, 200, JSON.stringify(v1.body));
    assert.equal(typeof v1.body.expires_on, 'string');
    assert.equal(v1.body.resource, 'https://management.azure.com/');
    const claims = decodeJwt(v1.body.access_token as string);
    assert.equal(claims.ver, '1.0');
    assert.equal(claims.iss, `${t.url}/${t.tenantId}/`);
    assert.equal(claims.appid, sp.appId);

    const basic = Buffer.from(`${encodeURIComponent(sp.appId)}:${encodeURIComponent(sp.secret)}`).toString('base64');
    const viaBasic = await postForm(t.tokenUrl, { grant_type: 'client_credentials', scope: 'https://vault.azure.net/.default' }, { authorization: `Basic ${basic}` });
    assert.equal(viaBasic.status, 200, JSON.stringify(viaBasic.body));
    assert.equal(viaBasic.headers.get('cache-control'), 'no-store');

    const user = decodeJwt(await userToken(t, 'locky', userPassword, 'https://management.azure.com//.default'));
    assert.equal(user.idtyp, 'user');
    assert.equal(user.preferred_username, 'locky@keyhaven.local');
    assert.equal(user.azp, AZURE_CLI_CLIENT_ID);
  });

  it('refuses malformed and hostile requests with the right error, and none crashes the server', async () => {
    const expired = await createServicePrincipal(t, admin, 'expiring-app', new Date(Date.now() + 1500).toISOString());
    const disabled = await createServicePrincipal(t, admin, 'disabled-app');
    assert.equal((await graph(t, admin, 'PATCH', `/servicePrincipals/${disabled.servicePrincipalId}`, { accountEnabled: false })).status, 204);
    await new Promise((r) => setTimeout(r, 2000));
    const cc = { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'https://management.azure.com//.default' };
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    type Case = { name: string; body?: string; form?: Record<string, string>; headers?: Record<string, string>; url?: string; status: number; error: string; code?: number };
    const raw = (s: string) => s;
    const cases: Case[] = [
      { name: 'no body at all', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'JSON instead of a form', body: JSON.stringify(cc), headers: { 'content-type': 'application/json' }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'text/plain body', body: new URLSearchParams(cc).toString(), headers: { 'content-type': 'text/plain' }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'XML body', body: '<grant_type>client_credentials</grant_type>', headers: { 'content-type': 'application/xml' }, status: 415, error: 'invalid_request' },
      { name: 'missing grant_type', form: { ...cc, grant_type: '' }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'unsupported grant_type', form: { ...cc, grant_type: 'implicit' }, status: 400, error: 'unsupported_grant_type', code: 70003 },
      { name: 'duplicate grant_type', body: raw(`${new URLSearchParams(cc)}&grant_type=password`), status: 400, error: 'invalid_request', code: 9000411 },
      { name: 'duplicate client_secret', body: raw(`${new URLSearchParams(cc)}&client_secret=other`), status: 400, error: 'invalid_request', code: 9000411 },
      { name: 'missing client_id', form: { grant_type: 'client_credentials', client_secret: 'x', scope: cc.scope }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'missing client_secret', form: { grant_type: 'client_credentials', client_id: sp.appId, scope: cc.scope }, status: 401, error: 'invalid_client', code: 7000218 },
      { name: 'unknown client', form: { ...cc, client_id: '2d7f3606-b07d-41d1-b9d2-0d0c9296a6e8' }, status: 400, error: 'unauthorized_client', code: 700016 },
      { name: 'SQL in client_id', form: { ...cc, client_id: "x' OR '1'='1" }, status: 400, error: 'unauthorized_client', code: 700016 },
      { name: 'wrong secret', form: { ...cc, client_secret: `${sp.secret.slice(0, -1)}X` }, status: 401, error: 'invalid_client', code: 7000215 },
      { name: 'expired secret', form: { ...cc, client_id: expired.appId, client_secret: expired.secret }, status: 401, error: 'invalid_client', code: 7000222 },
      { name: 'disabled service principal', form: { ...cc, client_id: disabled.appId, client_secret: disabled.secret }, status: 400, error: 'unauthorized_client', code: 7000112 },
      { name: 'Basic and client_secret together', form: cc, headers: { authorization: basic(sp.appId, sp.secret) }, status: 400, error: 'invalid_request', code: 9002313 },
      { name: 'Basic header not base64', form: { grant_type: 'client_credentials', scope: cc.scope }, headers: { authorization: 'Basic !!!notbase64!!!' }, status: 400, error: 'invalid_request' },
      { name: 'Basic id differs from body client_id', form: { grant_type: 'client_credentials', client_id: 'someone-else', scope: cc.scope }, headers: { authorization: basic(sp.appId, sp.secret) }, status: 400, error: 'invalid_request', code: 9002313 },
      { name: 'v2 without scope', form: { ...cc, scope: '' }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'scope of an unknown resource', form: { ...cc, scope: 'https://evil.example/.default' }, status: 400, error: 'invalid_scope', code: 500011 },
      { name: 'named scope instead of .default', form: { ...cc, scope: 'https://management.azure.com/user_impersonation' }, status: 400, error: 'invalid_scope', code: 70011 },
      { name: 'two resources in one scope', form: { ...cc, scope: 'https://management.azure.com//.default https://vault.azure.net/.default' }, status: 400, error: 'invalid_scope', code: 70011 },
      { name: 'control characters and 5000 chars in scope', form: { ...cc, scope: `https://x\u0000${'a'.repeat(5000)}/.default` }, status: 400, error: 'invalid_scope' },
      { name: 'v1 without resource', url: `${t.url}/${t.tenantId}/oauth2/token`, form: { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'v1 unknown resource', url: `${t.url}/${t.tenantId}/oauth2/token`, form: { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, resource: 'https://evil.example/' }, status: 400, error: 'invalid_resource', code: 500011 },
      { name: 'unknown tenant', url: `${t.url}/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token`, form: cc, status: 400, error: 'invalid_request', code: 90002 },
      { name: 'oversized body', form: { ...cc, padding: 'p'.repeat(70 * 1024) }, status: 413, error: 'invalid_request' },
      { name: 'password grant, unknown user', form: { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'nobody-here@keyhaven.local', password: 'whatever-it-is', scope: cc.scope }, status: 400, error: 'invalid_grant', code: 50126 },
      { name: 'password grant, wrong password', form: { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'bystander@keyhaven.local', password: 'whatever-it-is', scope: cc.scope }, status: 400, error: 'invalid_grant', code: 50126 },
      { name: 'password grant without username', form: { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, password: 'x', scope: cc.scope }, status: 400, error: 'invalid_request', code: 900144 },
      { name: 'password grant, confidential client without its secret', form: { grant_type: 'password', client_id: sp.appId, username: 'bystander', password: userPassword, scope: cc.scope }, status: 401, error: 'invalid_client', code: 7000218 },
    ];
    assert.ok(cases.length >= 25);
    const descriptions = new Map<string, string>();
    for (const c of cases) {
      const url = c.url ?? t.tokenUrl;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...c.headers },
        body: c.body ?? new URLSearchParams(c.form).toString(),
      });
      const body = (await res.json()) as { error: string; error_codes?: number[]; error_description: string; trace_id: string; correlation_id: string };
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(body)}`);
      assert.equal(body.error, c.error, c.name);
      if (c.code !== undefined) assert.deepEqual(body.error_codes, [c.code], c.name);
      assert.match(body.error_description, /^AADSTS\d+: .+ Trace ID: [0-9a-f-]{36} Correlation ID: \S+ Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/, c.name);
      for (const secret of [sp.secret, expired.secret, disabled.secret, userPassword]) assert.ok(!JSON.stringify(body).includes(secret), `${c.name} echoes a secret`);
      descriptions.set(c.name, body.error_description.split(' Trace ID:')[0]!);
    }
    // An unknown user and a wrong password are the same answer.
    assert.equal(descriptions.get('password grant, unknown user'), descriptions.get('password grant, wrong password'));
    assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
    assert.ok(!server.stdout().includes(sp.secret) && !server.stdout().includes(userPassword), 'no credential in the log');
  });

  it('locks an account after repeated failures, even for the right password, without touching others', async () => {
    const attempt = (username: string, password: string) =>
      postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username, password, scope: 'https://management.azure.com//.default' });
    for (let i = 0; i < 3; i++) assert.equal((await attempt('locky', 'wrong-password-guess')).body.error_codes?.toString(), '50126');
    const locked = await attempt('locky', userPassword);
    assert.equal(locked.status, 400);
    assert.deepEqual(locked.body.error_codes, [50053]);
    // Another account from the same address is unaffected.
    assert.equal((await attempt('bystander', userPassword)).status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await attempt('locky', userPassword)).status, 200, 'the right password works once the delay has passed');
  });

  it('a disabled user’s token stops working at once', async () => {
    const token = await userToken(t, 'bystander', userPassword);
    const me = await graph(t, token, 'GET', '/me');
    assert.equal(me.status, 200);
    const users = await graph<{ value: { id: string }[] }>(t, admin, 'GET', `/users?$filter=userPrincipalName eq 'bystander@keyhaven.local'`);
    assert.equal((await graph(t, admin, 'PATCH', `/users/${users.body.value[0]!.id}`, { accountEnabled: false })).status, 204);
    assert.equal((await graph(t, token, 'GET', '/me')).status, 401);
  });

  it('the database holds no client secret and no password in any recoverable form', async () => {
    const audit = await runCli(['audit', 'verify', '--home', home, '--storage', storage.url]);
    assert.equal(JSON.parse(audit.stdout).ok, true, audit.stdout);
    // The SQLite files byte for byte, or everything PostgreSQL holds for this database.
    const bytes = storage.url.startsWith('sqlite:')
      ? Buffer.concat(['keyhaven.db', 'keyhaven.db-wal'].map((f) => {
          try {
            return readFileSync(join(home, f));
          } catch {
            return Buffer.alloc(0);
          }
        }))
      : execFileSync('pg_dump', ['--data-only', '--no-owner', storage.url], { maxBuffer: 256 * 1024 * 1024 });
    assert.ok(bytes.length > 10_000, 'the dump has the data');
    for (const secret of [sp.secret, userPassword, t.adminPassword]) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
        assert.equal(bytes.indexOf(form), -1, 'a credential is in the database file');
      }
    }
  });
});
