// The token service against a live server, with real clients: @azure/identity's
// ClientSecretCredential (MSAL underneath) for every audience, jose verifying every token
// against the published JWKS, lockout, one audit record per token, and a
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
      [`https://vault.localhost:${port}/.default`, `https://vault.localhost:${port}`],
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

  // The table of malformed and hostile requests is test/blackbox/token-hostile.test.ts.

  it('issuing a token writes one audit record holding the sign-in and the issuance', async () => {
    const records = async () => JSON.parse((await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--top', '10000'])).stdout) as { seq: number; action: string; actor: string; details: Record<string, unknown> }[];
    const before = await records();
    const last = before[before.length - 1]!.seq;
    const cc = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'https://vault.azure.net/.default' });
    assert.equal(cc.status, 200);
    const pw = await postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'bystander', password: userPassword, scope: 'https://vault.azure.net/.default' });
    assert.equal(pw.status, 200, JSON.stringify(pw.body));
    const added = (await records()).filter((r) => r.seq > last);
    assert.deepEqual(added.map((r) => r.action), ['token.issue', 'token.issue'], JSON.stringify(added));
    const [app, user] = added as [typeof added[0], typeof added[0]];
    assert.equal(app.actor, sp.servicePrincipalId);
    assert.deepEqual([app.details.grant, app.details.appId, app.details.clientAuth, app.details.keyId], ['client_credentials', sp.appId, 'client_secret_post', sp.keyId]);
    assert.equal(app.details.uti, decodeJwt(cc.body.access_token as string).uti);
    assert.deepEqual([user.details.grant, user.details.username, user.details.amr, user.details.clientAuth], ['password', 'bystander', 'pwd', 'none']);
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
