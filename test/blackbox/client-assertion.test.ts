// private_key_jwt against a live server: a certificate registered on the application through
// `keyhaven ad app credential reset --cert` (Graph addKey), @azure/identity's
// ClientCertificateCredential (MSAL: x5t#S256 header, aud = the token endpoint) getting tokens,
// and hand-made assertions that must be refused — expired, foreign key, a registered key's
// thumbprint over a foreign signature, replayed jti, wrong aud, iss ≠ sub, alg none, HS256 keyed
// with the public certificate, an over-long lifetime — each with its own Entra-shaped error and
// no token. Certificates come from openssl.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClientCertificateCredential } from '@azure/identity';
import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { makeClientCertificate, type ClientCertificate } from '../helpers/client-certificates.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('client assertions (private_key_jwt)', () => {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-assert-'));
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let sp: ServicePrincipalFixture;
  let cert: ClientCertificate;
  let foreign: ClientCertificate;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    sp = await createServicePrincipal(t, admin, 'assertion-app');
    cert = makeClientCertificate('assertion-app');
    foreign = makeClientCertificate('someone-else');
    // Registered the way an admin does it: the CLI, from a PEM file.
    const configDir = join(work, 'config');
    const certFile = join(work, 'cert.pem');
    writeFileSync(certFile, cert.certPem);
    const kh = (...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: configDir } });
    const login = await kh('login', '--server', t.url, '--username', 'admin', '--password', t.adminPassword);
    assert.equal(login.code, 0, login.stderr);
    const reset = await kh('ad', 'app', 'credential', 'reset', '--id', sp.appId, '--cert', `@${certFile}`);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(JSON.parse(reset.stdout).appId, sp.appId);
    const show = JSON.parse((await kh('ad', 'app', 'show', '--id', sp.appId)).stdout) as { keyCredentials: { customKeyIdentifier: string }[] };
    assert.equal(show.keyCredentials.length, 1);
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('ClientCertificateCredential gets verifiable tokens that say a certificate was used', async () => {
    const credential = new ClientCertificateCredential(t.tenantId, sp.appId, { certificate: cert.combinedPem }, { authorityHost: t.url, disableInstanceDiscovery: true });
    const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/v2.0/keys`));
    for (const scope of ['https://management.azure.com//.default', 'https://vault.azure.net/.default']) {
      const token = await credential.getToken(scope);
      assert.ok(token?.token, scope);
      const { payload } = await jwtVerify(token.token, jwks, { issuer: `${t.url}/${t.tenantId}/v2.0`, algorithms: ['RS256'] });
      assert.equal(payload.azp, sp.appId);
      assert.equal(payload.azpacr, '2', 'azpacr 2: certificate');
      assert.equal(payload.oid, sp.servicePrincipalId);
    }
  });

  const now = () => Math.floor(Date.now() / 1000);
  function assertion(options: { key?: ClientCertificate; header?: Record<string, unknown>; claims?: Record<string, unknown>; alg?: string } = {}): Promise<string> {
    const key = options.key ?? cert;
    const claims = { iss: sp.appId, sub: sp.appId, aud: t.tokenUrl, jti: randomUUID(), iat: now(), nbf: now(), exp: now() + 600, ...options.claims };
    return new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'RS256', typ: 'JWT', 'x5t#S256': key.x5tS256, ...options.header }).sign(key.privateKey);
  }
  const exchange = (clientAssertion: string, extra: Record<string, string> = {}, url = t.tokenUrl) =>
    postForm(url, { grant_type: 'client_credentials', client_id: sp.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, scope: 'https://management.azure.com//.default', ...extra });

  it('takes the key by x5t#S256, x5t or kid, and aud of the v1, v2 or /adfs token endpoint', async () => {
    const ok = async (a: string, url?: string) => {
      const res = await exchange(a, url?.includes('/adfs/') ? { scope: '', resource: 'https://management.azure.com/' } : {}, url);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(decodeJwt(res.body.access_token as string).oid, sp.servicePrincipalId);
    };
    await ok(await assertion());
    await ok(await assertion({ header: { 'x5t#S256': undefined, x5t: cert.x5t } }));
    await ok(await assertion({ header: { 'x5t#S256': undefined, kid: Buffer.from(cert.x5t, 'base64url').toString('hex').toUpperCase() } }));
    await ok(await assertion({ claims: { aud: `${t.url}/${t.tenantId}/oauth2/token` } }));
    await ok(await assertion({ claims: { aud: `${t.url}/adfs/oauth2/token` } }), `${t.url}/adfs/oauth2/token`);
    // RFC 7523 §3: client_id may be left out beside an assertion.
    const noId = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(), scope: 'https://vault.azure.net/.default' });
    assert.equal(noId.status, 200, JSON.stringify(noId.body));
  });

  /** A token request from another loopback address (Linux routes all of 127/8 to lo). */
  function exchangeFrom(localAddress: string, clientAssertion: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: sp.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, scope: 'https://vault.azure.net/.default' }).toString();
    return new Promise((resolve, reject) => {
      const req = request(t.tokenUrl, { method: 'POST', localAddress, timeout: 10_000, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  it('a used assertion is taken again from its first source only (MSAL reuses one per 10 minutes)', async () => {
    const used = await assertion();
    assert.equal((await exchange(used)).status, 200);
    assert.equal((await exchange(used, { scope: 'https://vault.azure.net/.default' })).status, 200, 'reused from the same address, as MSAL does');
    const replay = await exchangeFrom('127.0.0.2', used);
    assert.equal(replay.status, 401, JSON.stringify(replay.body));
    assert.deepEqual(replay.body.error_codes, [50013]);
    assert.equal(replay.body.access_token, undefined);
  });

  it('refuses hostile assertions, each with its own error, and issues nothing', async () => {
    const hs256 = await new SignJWT({ iss: sp.appId, sub: sp.appId, aud: t.tokenUrl, jti: randomUUID(), exp: now() + 600 })
      .setProtectedHeader({ alg: 'HS256', 'x5t#S256': cert.x5tS256 }).sign(Buffer.from(cert.certPem));
    const none = new UnsecuredJWT({ iss: sp.appId, sub: sp.appId, aud: t.tokenUrl, jti: randomUUID(), exp: now() + 600 }).encode();
    const stranger = randomUUID();
    const cases: [string, string | Promise<string>, number, Record<string, string>?][] = [
      ['expired', assertion({ claims: { iat: now() - 3000, nbf: now() - 3000, exp: now() - 1200 } }), 700024],
      ['not yet valid', assertion({ claims: { nbf: now() + 1200, iat: now() + 1200, exp: now() + 1500 } }), 700024],
      ['lifetime of a day', assertion({ claims: { exp: now() + 86_400 } }), 700024],
      ['foreign key, its own thumbprint', assertion({ key: foreign }), 700027],
      ['foreign key under the registered thumbprint', assertion({ key: foreign, header: { 'x5t#S256': cert.x5tS256 } }), 700027],
      ['aud of another server', assertion({ claims: { aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' } }), 50013],
      ['iss differs from sub', assertion({ claims: { sub: randomUUID() } }), 700021],
      ['iss is another client', assertion({ claims: { iss: stranger, sub: stranger } }), 700016, { client_id: '' }],
      ['client_id differs from iss', assertion(), 700021, { client_id: stranger }],
      ['alg none', none, 700027],
      ['HS256 keyed with the certificate', hs256, 700027],
      ['no jti', assertion({ claims: { jti: undefined } }), 50013],
      ['not a JWT', 'not.a.jwt', 50013],
    ];
    for (const [name, pending, code, extra] of cases) {
      const res = await exchange(await pending, extra);
      assert.equal(res.status, name === 'iss is another client' ? 400 : 401, `${name}: ${JSON.stringify(res.body)}`);

      assert.equal(res.body.error, name === 'iss is another client' ? 'unauthorized_client' : 'invalid_client', name);
      assert.deepEqual(res.body.error_codes, [code], `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.access_token, undefined, name);
    }
    const audit = await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--action', 'serviceprincipal.signin', '--top', '1000']);
    const denied = (JSON.parse(audit.stdout) as { outcome: string; details: Record<string, string> }[]).filter((r) => r.details.method === 'private_key_jwt' && r.outcome === 'denied');
    assert.ok(denied.length >= 1, 'refusals are audited');
    assert.ok(!audit.stdout.includes(await cases[0]![1]), 'no assertion in the audit log');
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });
});
