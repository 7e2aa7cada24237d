// The token endpoint's table of malformed and hostile requests, against a live server. Each row
// is one request; each must get its OAuth error and status in Entra's shape, echo no secret,
// issue nothing (no access_token, no new token.issue audit record), and leave the server
// healthy. One array, CASES, for every grant: a grant module adds its rows here
// (src/tokens/grants/grant-registry.ts). A second suite checks that failed client
// authentications are throttled and their audit records aggregated per source.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, createServicePrincipal, graph, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const USER_PASSWORD = 'Quiet-lantern-harbour-71';

interface Fixtures {
  t: Tenant;
  sp: ServicePrincipalFixture;
  expired: ServicePrincipalFixture;
  disabled: ServicePrincipalFixture;
}

interface Case {
  name: string;
  /** The raw body; default: `form` form-encoded. */
  body?: (f: Fixtures) => string;
  form?: (f: Fixtures) => Record<string, string>;
  headers?: (f: Fixtures) => Record<string, string>;
  /** Path under the server; default the tenant's v2 token endpoint. */
  path?: (f: Fixtures) => string;
  status: number;
  error: string;
  aadsts?: number;
}

const scope = 'https://management.azure.com//.default';
const cc = (f: Fixtures) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_secret: f.sp.secret, scope });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const v1 = (f: Fixtures) => `/${f.t.tenantId}/oauth2/token`;
const pw = (extra: Record<string, string>) => ({ grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, scope, ...extra });
const jwtish = (header: object, payload: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

export const CASES: Case[] = [
  // the request itself
  { name: 'no body at all', body: () => '', status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'JSON instead of a form', body: (f) => JSON.stringify(cc(f)), headers: () => ({ 'content-type': 'application/json' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'text/plain body', body: (f) => new URLSearchParams(cc(f)).toString(), headers: () => ({ 'content-type': 'text/plain' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'XML body', body: () => '<grant_type>client_credentials</grant_type>', headers: () => ({ 'content-type': 'application/xml' }), status: 415, error: 'invalid_request' },
  { name: 'oversized body', form: (f) => ({ ...cc(f), padding: 'p'.repeat(70 * 1024) }), status: 413, error: 'invalid_request' },
  { name: 'missing grant_type', form: (f) => ({ ...cc(f), grant_type: '' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'unknown grant_type', form: (f) => ({ ...cc(f), grant_type: 'implicit' }), status: 400, error: 'unsupported_grant_type', aadsts: 70003 },
  { name: 'unknown grant_type without any client', form: () => ({ grant_type: 'urn:example:made-up' }), status: 400, error: 'unsupported_grant_type', aadsts: 70003 },
  { name: 'grant_type with control characters', form: () => ({ grant_type: 'client\u0000credentials\r\n' }), status: 400, error: 'unsupported_grant_type', aadsts: 70003 },
  { name: 'duplicate grant_type', body: (f) => `${new URLSearchParams(cc(f))}&grant_type=password`, status: 400, error: 'invalid_request', aadsts: 9000411 },
  { name: 'duplicate client_secret', body: (f) => `${new URLSearchParams(cc(f))}&client_secret=other`, status: 400, error: 'invalid_request', aadsts: 9000411 },
  { name: 'duplicate scope', body: (f) => `${new URLSearchParams(cc(f))}&scope=https%3A%2F%2Fvault.azure.net%2F.default`, status: 400, error: 'invalid_request', aadsts: 9000411 },
  { name: 'unknown tenant', path: () => '/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token', form: cc, status: 400, error: 'invalid_request', aadsts: 90002 },
  // the client
  { name: 'missing client_id', form: () => ({ grant_type: 'client_credentials', client_secret: 'x', scope }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'missing client_secret', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, scope }), status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'public client id on client_credentials', form: () => ({ grant_type: 'client_credentials', client_id: AZURE_CLI_CLIENT_ID, scope }), status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'unknown client', form: (f) => ({ ...cc(f), client_id: '2d7f3606-b07d-41d1-b9d2-0d0c9296a6e8' }), status: 400, error: 'unauthorized_client', aadsts: 700016 },
  { name: 'SQL in client_id', form: (f) => ({ ...cc(f), client_id: "x' OR '1'='1" }), status: 400, error: 'unauthorized_client', aadsts: 700016 },
  { name: 'wrong secret', form: (f) => ({ ...cc(f), client_secret: `${f.sp.secret.slice(0, -1)}X` }), status: 401, error: 'invalid_client', aadsts: 7000215 },
  { name: 'secret of another application', form: (f) => ({ ...cc(f), client_secret: f.disabled.secret }), status: 401, error: 'invalid_client', aadsts: 7000215 },
  { name: 'expired secret', form: (f) => ({ ...cc(f), client_id: f.expired.appId, client_secret: f.expired.secret }), status: 401, error: 'invalid_client', aadsts: 7000222 },
  { name: 'disabled service principal', form: (f) => ({ ...cc(f), client_id: f.disabled.appId, client_secret: f.disabled.secret }), status: 400, error: 'unauthorized_client', aadsts: 7000112 },
  { name: 'Basic and client_secret together', form: cc, headers: (f) => ({ authorization: basic(f.sp.appId, f.sp.secret) }), status: 400, error: 'invalid_request', aadsts: 9002313 },
  { name: 'Basic header not base64', form: () => ({ grant_type: 'client_credentials', scope }), headers: () => ({ authorization: 'Basic !!!notbase64!!!' }), status: 400, error: 'invalid_request' },
  { name: 'Basic id differs from body client_id', form: () => ({ grant_type: 'client_credentials', client_id: 'someone-else', scope }), headers: (f) => ({ authorization: basic(f.sp.appId, f.sp.secret) }), status: 400, error: 'invalid_request', aadsts: 9002313 },
  { name: 'secret and assertion together', form: (f) => ({ ...cc(f), client_assertion_type: ASSERTION_TYPE, client_assertion: 'a.b.c' }), status: 400, error: 'invalid_request', aadsts: 9002313 },
  { name: 'assertion of an unknown type', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_assertion_type: 'urn:example:saml', client_assertion: 'x', scope }), status: 400, error: 'invalid_request', aadsts: 700023 },
  { name: 'assertion type without assertion', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_assertion_type: ASSERTION_TYPE, scope }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'assertion that is not a JWT', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: 'garbage', scope }), status: 401, error: 'invalid_client', aadsts: 50013 },
  { name: 'assertion with alg none', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: jwtish({ alg: 'none' }, { iss: f.sp.appId, sub: f.sp.appId, aud: f.t.tokenUrl, jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 300 }), scope }), status: 401, error: 'invalid_client', aadsts: 700027 },
  { name: 'assertion naming no registered key', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: `${jwtish({ alg: 'RS256', 'x5t#S256': 'AAAA' }, { iss: f.sp.appId, sub: f.sp.appId, aud: f.t.tokenUrl, jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 300 })}c2ln`, scope }), status: 401, error: 'invalid_client', aadsts: 700027 },
  // the audience
  { name: 'v2 without scope', form: (f) => ({ ...cc(f), scope: '' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'scope of an unknown resource', form: (f) => ({ ...cc(f), scope: 'https://evil.example/.default' }), status: 400, error: 'invalid_scope', aadsts: 500011 },
  { name: 'named scope instead of .default', form: (f) => ({ ...cc(f), scope: 'https://management.azure.com/user_impersonation' }), status: 400, error: 'invalid_scope', aadsts: 70011 },
  { name: 'two resources in one scope', form: (f) => ({ ...cc(f), scope: 'https://management.azure.com//.default https://vault.azure.net/.default' }), status: 400, error: 'invalid_scope', aadsts: 70011 },
  { name: 'control characters and 5000 chars in scope', form: (f) => ({ ...cc(f), scope: `https://x\u0000${'a'.repeat(5000)}/.default` }), status: 400, error: 'invalid_scope' },
  { name: 'api:// of an application that does not exist', form: (f) => ({ ...cc(f), scope: `api://${randomUUID()}/.default` }), status: 400, error: 'invalid_scope', aadsts: 500011 },
  { name: 'v1 without resource', path: v1, form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_secret: f.sp.secret }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'v1 unknown resource', path: v1, form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_secret: f.sp.secret, resource: 'https://evil.example/' }), status: 400, error: 'invalid_resource', aadsts: 500011 },
  { name: '/adfs with neither scope nor resource', path: () => '/adfs/oauth2/token', form: (f) => ({ grant_type: 'client_credentials', client_id: f.sp.appId, client_secret: f.sp.secret }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: '/adfs scope of an unknown resource', path: () => '/adfs/oauth2/token', form: (f) => ({ ...cc(f), scope: 'https://evil.example//.default' }), status: 400, error: 'invalid_scope', aadsts: 500011 },
  // the password grant
  { name: 'password grant, unknown user', form: () => pw({ username: 'nobody-here@keyhaven.local', password: 'whatever-it-is' }), status: 400, error: 'invalid_grant', aadsts: 50126 },
  { name: 'password grant, wrong password', form: () => pw({ username: 'bystander@keyhaven.local', password: 'whatever-it-is' }), status: 400, error: 'invalid_grant', aadsts: 50126 },
  { name: 'password grant without username', form: () => pw({ password: 'x' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'password grant without password', form: () => pw({ username: 'bystander' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'password grant, unregistered public client', form: () => ({ ...pw({ username: 'bystander', password: USER_PASSWORD }), client_id: randomUUID() }), status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'password grant, confidential client without its secret', form: (f) => ({ ...pw({ username: 'bystander', password: USER_PASSWORD }), client_id: f.sp.appId }), status: 401, error: 'invalid_client', aadsts: 7000218 },
];

describe('token endpoint: hostile requests', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let f: Fixtures;

  before(async () => {
    storage = await blackboxStorage(home);
    // Every row comes from 127.0.0.1: trusting it keeps the per-source guard (tested below) out of the table.
    server = await startServerProcess({ home, storage: storage.url, args: ['--trusted-sources', '127.0.0.1', '--lockout-threshold', '100'] });
    const t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    const sp = await createServicePrincipal(t, admin, 'hostile-app');
    const expired = await createServicePrincipal(t, admin, 'expiring-app', new Date(Date.now() + 1500).toISOString());
    const disabled = await createServicePrincipal(t, admin, 'disabled-app');
    assert.equal((await graph(t, admin, 'PATCH', `/servicePrincipals/${disabled.servicePrincipalId}`, { accountEnabled: false })).status, 204);
    const user = await graph(t, admin, 'POST', '/users', { accountEnabled: true, displayName: 'bystander', mailNickname: 'bystander', userPrincipalName: 'bystander@keyhaven.local', passwordProfile: { password: USER_PASSWORD, forceChangePasswordNextSignIn: false } });
    assert.equal(user.status, 201);
    f = { t, sp, expired, disabled };
    await new Promise((r) => setTimeout(r, Math.max(0, 1600)));
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  const issued = async () => {
    const audit = await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--action', 'token.issue', '--top', '10000']);
    return (JSON.parse(audit.stdout) as unknown[]).length;
  };

  it(`answers each of ${CASES.length} rows with its error, issues nothing and stays healthy`, async () => {
    assert.ok(CASES.length >= 40, `${CASES.length} rows`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'row names are unique');
    const before = await issued();
    const descriptions = new Map<string, string>();
    for (const c of CASES) {
      const res = await fetch(`${f.t.url}${c.path?.(f) ?? `/${f.t.tenantId}/oauth2/v2.0/token`}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...c.headers?.(f) },
        body: c.body?.(f) ?? new URLSearchParams(c.form?.(f)).toString(),
      });
      const text = await res.text();
      const body = JSON.parse(text) as { error: string; error_codes?: number[]; error_description: string; access_token?: string };
      assert.equal(res.status, c.status, `${c.name}: ${text}`);
      assert.equal(body.error, c.error, `${c.name}: ${text}`);
      if (c.aadsts !== undefined) assert.deepEqual(body.error_codes, [c.aadsts], `${c.name}: ${text}`);
      assert.equal(body.access_token, undefined, c.name);
      assert.equal(res.headers.get('cache-control'), 'no-store', c.name);
      assert.match(body.error_description, /^AADSTS\d+: .+ Trace ID: [0-9a-f-]{36} Correlation ID: \S+ Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/, c.name);
      for (const secret of [f.sp.secret, f.expired.secret, f.disabled.secret, USER_PASSWORD]) assert.ok(!text.includes(secret), `${c.name} echoes a secret`);
      descriptions.set(c.name, body.error_description.split(' Trace ID:')[0]!);
      assert.equal((await fetch(`${f.t.url}/healthz`)).status, 200, `healthy after ${c.name}`);
    }
    assert.equal(await issued(), before, 'no row issued a token');
    // An unknown user and a wrong password are the same answer.
    assert.equal(descriptions.get('password grant, unknown user'), descriptions.get('password grant, wrong password'));
    assert.ok(!server.stdout().includes(f.sp.secret) && !server.stdout().includes(USER_PASSWORD), 'no credential in the log');
  });
});

describe('token endpoint: failed client authentications are throttled and audited in aggregate', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let sp: ServicePrincipalFixture;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--lockout-threshold', '3', '--lockout-base-delay-seconds', '1', '--auth-refusal-window-seconds', '5'] });
    t = await tenantOf(server);
    sp = await createServicePrincipal(t, await userToken(t, 'admin', t.adminPassword), 'throttled-app');
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('locks a client id after repeated wrong secrets, even for the right one, and records one record per window per source', async () => {
    const attempt = (secret: string) => postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: secret, scope });
    const refusals = async () => {
      const audit = await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--action', 'serviceprincipal.signin', '--top', '10000']);
      return JSON.parse(audit.stdout) as { outcome: string; details: Record<string, string | number | boolean> }[];
    };
    for (let i = 0; i < 3; i++) assert.deepEqual((await attempt(`wrong-${i}`)).body.error_codes, [7000215]);
    const locked = await attempt(sp.secret);
    assert.equal(locked.status, 429, JSON.stringify(locked.body));
    assert.equal(locked.body.error, 'temporarily_unavailable');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    assert.equal(locked.body.access_token, undefined);
    // 30 more refusals from this address within the window: still one record so far.
    for (let i = 0; i < 30; i++) await attempt(`wrong-again-${i}`);
    const during = (await refusals()).filter((r) => r.outcome === 'denied');
    assert.equal(during.length, 1, JSON.stringify(during));
    assert.equal(during[0]!.details.error, 'KH_INVALID_CLIENT_SECRET');
    // The window (5 s, configured) ends; the next refusal writes the summary of the last one.
    await new Promise((r) => setTimeout(r, 5300));
    await attempt('wrong-later');
    const all = (await refusals()).filter((r) => r.outcome === 'denied');
    const summary = all.find((r) => r.details.aggregated === true);
    assert.ok(summary, JSON.stringify(all));
    // Every one of the 35 refusals is accounted for: 1 per immediate record, `count` per summary.
    const accounted = all.reduce((n, r) => n + (r.details.aggregated === true ? Number(r.details.count) : 1), 0);
    assert.equal(accounted, 35);
    assert.ok(all.length <= 4, `${all.length} records for 35 refusals`);
    assert.ok(Number(summary.details.count_KH_CLIENT_THROTTLED ?? 0) >= 1, 'throttled refusals are counted too');
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });
});
