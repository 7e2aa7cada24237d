// The token endpoint's table of malformed and hostile requests, against a live server. Each row
// is one request; each must get its OAuth error and status in Entra's shape, echo no secret,
// issue nothing (no access_token, no new token.issue audit record), and leave the server
// healthy. One array, CASES, for every grant: a grant module adds its rows here
// (src/tokens/grants/grant-registry.ts). A second suite checks that failed client
// authentications are throttled and their audit records aggregated per source.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, createServicePrincipal, graph, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';
import { createUser, formsOf, passwordForm, registerApp, TestBrowser } from '../helpers/browser-signin.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const USER_PASSWORD = 'Quiet-lantern-harbour-71';

interface Fixtures {
  t: Tenant;
  sp: ServicePrincipalFixture;
  expired: ServicePrincipalFixture;
  disabled: ServicePrincipalFixture;
  /** The browser grants: public apps with a loopback redirect, a confidential web app, a signed-in browser. */
  pub: { appId: string };
  pub2: { appId: string };
  web: ServicePrincipalFixture;
  browser: TestBrowser;
  admin: string;
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
  /** Setup that may sign in or issue (counted apart): returns the form to send. */
  prepare?: (f: Fixtures) => Promise<Record<string, string>>;
  /** A browser-side request (authorize, the device page): answered by a page or a redirect, not JSON. */
  send?: (f: Fixtures) => Promise<Response>;
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
  // the authorization code grant (PKCE, single use, bound to client and redirect URI)
  { name: 'code with a wrong PKCE verifier', prepare: async (f) => ({ ...redeem(f, await code(f)), code_verifier: 'x'.repeat(43) }), status: 400, error: 'invalid_grant', aadsts: 501481 },
  { name: 'code without its PKCE verifier', prepare: async (f) => { const c = await code(f); const { code_verifier: _v, ...form } = redeem(f, c); return form; }, status: 400, error: 'invalid_grant', aadsts: 9002325 },
  { name: 'code replayed', prepare: async (f) => { const c = await code(f); assert.equal((await postForm(f.t.tokenUrl, redeem(f, c))).status, 200); return redeem(f, c); }, status: 400, error: 'invalid_grant', aadsts: 54005 },
  { name: 'code redeemed by another client', prepare: async (f) => ({ ...redeem(f, await code(f)), client_id: f.pub2.appId }), status: 400, error: 'invalid_grant', aadsts: 700005 },
  { name: 'code with another redirect_uri', prepare: async (f) => ({ ...redeem(f, await code(f)), redirect_uri: 'http://127.0.0.1:9/other' }), status: 400, error: 'invalid_grant', aadsts: 50011 },
  { name: 'malformed authorization code', form: (f) => ({ grant_type: 'authorization_code', client_id: f.pub.appId, code: "' OR 1=1 --", redirect_uri: CALLBACK }), status: 400, error: 'invalid_grant', aadsts: 9002313 },
  { name: 'unknown authorization code', form: (f) => ({ grant_type: 'authorization_code', client_id: f.pub.appId, code: `khac.${'A'.repeat(43)}`, redirect_uri: CALLBACK }), status: 400, error: 'invalid_grant', aadsts: 9002313 },
  { name: 'code grant without code', form: (f) => ({ grant_type: 'authorization_code', client_id: f.pub.appId, redirect_uri: CALLBACK }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'code grant without redirect_uri', prepare: async (f) => { const { redirect_uri: _r, ...form } = redeem(f, await code(f)); return form; }, status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'duplicate code parameter', body: (f) => `grant_type=authorization_code&client_id=${f.pub.appId}&code=a&code=b&redirect_uri=${encodeURIComponent(CALLBACK)}`, status: 400, error: 'invalid_request', aadsts: 9000411 },
  { name: 'web code of a confidential app redeemed without its secret', prepare: async (f) => ({ grant_type: 'authorization_code', client_id: f.web.appId, code: await webCode(f), redirect_uri: WEB_CALLBACK }), status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'verifier sent for a code without challenge', prepare: async (f) => ({ grant_type: 'authorization_code', client_id: f.web.appId, client_secret: f.web.secret, code: await webCode(f), redirect_uri: WEB_CALLBACK, code_verifier: 'y'.repeat(43) }), status: 400, error: 'invalid_grant', aadsts: 501481 },
  // the refresh token grant (rotation, reuse detection, revocation)
  { name: 'refresh token reused after rotation', prepare: async (f) => { const rt = await refreshToken(f); assert.equal((await postForm(f.t.tokenUrl, refreshForm(f, rt))).status, 200); return refreshForm(f, rt); }, status: 400, error: 'invalid_grant', aadsts: 70000 },
  { name: 'refresh with the successor of a reused token', prepare: async (f) => { const rt = await refreshToken(f); const next = await postForm(f.t.tokenUrl, refreshForm(f, rt)); await postForm(f.t.tokenUrl, refreshForm(f, rt)); return refreshForm(f, next.body.refresh_token as string); }, status: 400, error: 'invalid_grant', aadsts: 50173 },
  { name: "confidential app's refresh token without its secret", prepare: async (f) => {
    const res = await postForm(f.t.tokenUrl, { grant_type: 'authorization_code', client_id: f.web.appId, client_secret: f.web.secret, code: await webCode(f, 'openid offline_access'), redirect_uri: WEB_CALLBACK });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { grant_type: 'refresh_token', client_id: f.web.appId, refresh_token: res.body.refresh_token as string, scope: 'openid' };
  }, status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'refresh token of another client', prepare: async (f) => ({ ...refreshForm(f, await refreshToken(f)), client_id: f.pub2.appId }), status: 400, error: 'invalid_grant', aadsts: 700005 },
  { name: 'refresh after the user was disabled', prepare: async (f) => { const rt = await refreshToken(f, 'to-be-disabled'); const id = (await graph<{ id: string }>(f.t, f.admin, 'GET', '/users/to-be-disabled@keyhaven.local')).body.id; assert.equal((await graph(f.t, f.admin, 'PATCH', `/users/${id}`, { accountEnabled: false })).status, 204); return refreshForm(f, rt); }, status: 400, error: 'invalid_grant', aadsts: 50057 },
  { name: 'malformed refresh token', form: (f) => refreshForm(f, 'eyJhbGciOiJub25lIn0.e30.'), status: 400, error: 'invalid_grant', aadsts: 9002313 },
  { name: 'refresh without refresh_token', form: (f) => ({ grant_type: 'refresh_token', client_id: f.pub.appId, scope: 'openid' }), status: 400, error: 'invalid_request', aadsts: 900144 },
  { name: 'refresh for an unknown resource', prepare: async (f) => ({ ...refreshForm(f, await refreshToken(f)), scope: 'https://evil.example/.default' }), status: 400, error: 'invalid_scope', aadsts: 500011 },
  { name: 'revoking with an access_token hint', path: (f) => `/${f.t.tenantId}/oauth2/v2.0/revoke`, form: (f) => ({ client_id: f.pub.appId, token: 'eyJ.eyJ.sig', token_type_hint: 'access_token' }), status: 400, error: 'unsupported_token_type', aadsts: 9002313 },
  { name: "revoking another client's refresh token", path: (f) => `/${f.t.tenantId}/oauth2/v2.0/revoke`, prepare: async (f) => ({ client_id: f.pub2.appId, token: await refreshToken(f) }), status: 400, error: 'invalid_grant', aadsts: 700005 },
  // the device code grant and its endpoint
  { name: 'device code polled too fast', prepare: async (f) => { const dc = await deviceCode(f); await postForm(f.t.tokenUrl, devicePoll(f, dc)); return devicePoll(f, dc); }, status: 400, error: 'slow_down', aadsts: 70016 },
  { name: 'device code before the user approved', prepare: async (f) => devicePoll(f, await deviceCode(f)), status: 400, error: 'authorization_pending', aadsts: 70016 },
  { name: 'unknown device code', form: (f) => devicePoll(f, `khdc.${'B'.repeat(43)}`), status: 400, error: 'invalid_grant', aadsts: 70000 },
  { name: 'device code polled by another client', prepare: async (f) => ({ ...devicePoll(f, await deviceCode(f)), client_id: f.pub2.appId }), status: 400, error: 'invalid_grant', aadsts: 70000 },
  { name: 'devicecode for a confidential app without its secret', path: (f) => `/${f.t.tenantId}/oauth2/v2.0/devicecode`, form: (f) => ({ client_id: f.web.appId, scope: 'openid' }), status: 401, error: 'invalid_client', aadsts: 7000218 },
  { name: 'devicecode for an unknown resource', path: () => '/adfs/oauth2/devicecode', form: (f) => ({ client_id: f.pub.appId, scope: 'https://evil.example//.default' }), status: 400, error: 'invalid_scope', aadsts: 500011 },
  { name: 'devicecode with duplicate client_id', path: (f) => `/${f.t.tenantId}/oauth2/v2.0/devicecode`, body: (f) => `client_id=${f.pub.appId}&client_id=${f.pub2.appId}&scope=openid`, status: 400, error: 'invalid_request', aadsts: 9000411 },
  // the authorize endpoint: errors before the redirect URI is validated are pages, never redirects
  { name: 'authorize with an unregistered redirect_uri', send: (f) => fetch(authorizeUrl(f, { redirect_uri: 'http://127.0.0.1:5000/elsewhere' }), { redirect: 'manual' }), status: 400, error: 'invalid_request', aadsts: 50011 },
  { name: 'open redirect to another host', send: (f) => fetch(authorizeUrl(f, { redirect_uri: 'https://evil.example/callback' }), { redirect: 'manual' }), status: 400, error: 'invalid_request', aadsts: 50011 },
  { name: 'open redirect through userinfo in the authority', send: (f) => fetch(authorizeUrl(f, { redirect_uri: 'http://127.0.0.1@evil.example/callback' }), { redirect: 'manual' }), status: 400, error: 'invalid_request', aadsts: 50011 },
  { name: 'redirect_uri with a path suffix', send: (f) => fetch(authorizeUrl(f, { redirect_uri: 'http://127.0.0.1:5000/callback/../../evil' }), { redirect: 'manual' }), status: 400, error: 'invalid_request', aadsts: 50011 },
  { name: 'authorize for an unknown client', send: (f) => fetch(authorizeUrl(f, { client_id: randomUUID() }), { redirect: 'manual' }), status: 400, error: 'unauthorized_client', aadsts: 700016 },
  { name: 'authorize with a duplicate redirect_uri', send: (f) => fetch(`${authorizeUrl(f)}&redirect_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual' }), status: 400, error: 'invalid_request', aadsts: 9000411 },
  { name: 'authorize without PKCE for a public client', send: (f) => fetch(authorizeUrl(f, { code_challenge: '', code_challenge_method: '' }), { redirect: 'manual' }), status: 302, error: 'invalid_request', aadsts: 9002325 },
  { name: 'authorize with PKCE method plain', send: (f) => fetch(authorizeUrl(f, { code_challenge_method: 'plain' }), { redirect: 'manual' }), status: 302, error: 'invalid_request', aadsts: 50148 },
  { name: 'authorize with response_type token', send: (f) => fetch(authorizeUrl(f, { response_type: 'token' }), { redirect: 'manual' }), status: 302, error: 'unsupported_response_type', aadsts: 700054 },
  { name: 'authorize with an unknown prompt', send: (f) => fetch(authorizeUrl(f, { prompt: 'everything' }), { redirect: 'manual' }), status: 302, error: 'invalid_request', aadsts: 90023 },
  { name: 'sign-in form posted without its CSRF token', send: (f) => signInPost(f, (form) => form.delete('csrf_token')), status: 400, error: 'invalid_request', aadsts: 90023 },
  { name: 'sign-in form posted with a forged CSRF token', send: (f) => signInPost(f, (form) => form.set('csrf_token', 'A'.repeat(43))), status: 400, error: 'invalid_request', aadsts: 90023 },
  { name: 'device page posted without its CSRF token', send: (f) => fetch(`${f.t.url}/devicelogin`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user_code=BCDF-GHJK&kh_action=next' }), status: 400, error: 'invalid_request', aadsts: 90023 },
  { name: 'device page given a wrong user code', send: (f) => devicePage(f, 'BCDF-GHJK'), status: 400, error: 'invalid_grant', aadsts: 70018 },
  { name: 'device page given a user code with ambiguous characters', send: (f) => devicePage(f, '0O1I-AEIU'), status: 400, error: 'invalid_grant', aadsts: 70018 },
];

const CALLBACK = 'http://127.0.0.1:53211/callback';
const WEB_CALLBACK = 'https://webapp.example.test/signin-oidc';
const VERIFIER = 'hostile-verifier-'.padEnd(64, 'z');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

function authorizeUrl(f: Fixtures, extra: Record<string, string> = {}): string {
  const params = { client_id: f.pub.appId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid offline_access', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'st', ...extra };
  return `${f.t.url}/${f.t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''))}`;
}

/** A fresh code for the public app (the fixture browser's session signs in without a password). */
async function code(f: Fixtures): Promise<string> {
  return (await f.browser.signIn(authorizeUrl(f), 'signer', USER_PASSWORD)).searchParams.get('code')!;
}

async function webCode(f: Fixtures, scope = 'openid'): Promise<string> {
  const url = `${f.t.url}/${f.t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: f.web.appId, redirect_uri: WEB_CALLBACK, response_type: 'code', scope })}`;
  return (await f.browser.signIn(url, 'signer', USER_PASSWORD)).searchParams.get('code')!;
}

function redeem(f: Fixtures, c: string): Record<string, string> {
  return { grant_type: 'authorization_code', client_id: f.pub.appId, code: c, redirect_uri: CALLBACK, code_verifier: VERIFIER };
}

function refreshForm(f: Fixtures, token: string): Record<string, string> {
  return { grant_type: 'refresh_token', client_id: f.pub.appId, refresh_token: token, scope: 'openid offline_access' };
}

async function refreshToken(f: Fixtures, user = 'signer'): Promise<string> {
  const browser = user === 'signer' ? f.browser : new TestBrowser(f.t.url);
  const c = (await browser.signIn(authorizeUrl(f), user, USER_PASSWORD)).searchParams.get('code')!;
  const res = await postForm(f.t.tokenUrl, redeem(f, c));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.refresh_token as string;
}

async function deviceCode(f: Fixtures): Promise<string> {
  const res = await postForm(`${f.t.url}/${f.t.tenantId}/oauth2/v2.0/devicecode`, { client_id: f.pub.appId, scope: 'openid' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.device_code as string;
}

function devicePoll(f: Fixtures, dc: string): Record<string, string> {
  return { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: f.pub.appId, device_code: dc };
}

/** Opens the sign-in page in a fresh browser, changes its form, and posts it with the right password. */
async function signInPost(f: Fixtures, change: (form: Map<string, string>) => void): Promise<Response> {
  const browser = new TestBrowser(f.t.url);
  const page = await browser.request(authorizeUrl(f, { prompt: 'login' }));
  const form = new Map(passwordForm(page.text).fields);
  form.set('username', 'signer');
  form.set('password', USER_PASSWORD);
  form.set('kh_action', 'signin');
  change(form);
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return fetch(new URL(passwordForm(page.text).action, f.t.url), { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([...form]).toString() });
}

async function devicePage(f: Fixtures, userCode: string): Promise<Response> {
  const browser = new TestBrowser(f.t.url);
  const page = await browser.request('/devicelogin');
  const form = new Map(formsOf(page.text)[0]!.fields);
  form.set('user_code', userCode);
  form.set('kh_action', 'next');
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return fetch(`${f.t.url}/devicelogin`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([...form]).toString() });
}

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
    for (const name of ['signer', 'to-be-disabled']) await createUser(t, admin, name, USER_PASSWORD);
    const pub = await registerApp(t, admin, { displayName: 'Hostile Public', isFallbackPublicClient: true, publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
    const pub2 = await registerApp(t, admin, { displayName: 'Hostile Public 2', isFallbackPublicClient: true, publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
    const web = await createServicePrincipal(t, admin, 'hostile-web');
    assert.equal((await graph(t, admin, 'PATCH', `/applications/${web.applicationId}`, { web: { redirectUris: [WEB_CALLBACK] } })).status, 204);
    f = { t, sp, expired, disabled, pub, pub2, web, browser: new TestBrowser(t.url), admin };
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
    assert.ok(CASES.length >= 80, `${CASES.length} rows`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'row names are unique');
    const before = await issued();
    // Tokens the rows' own setup issued (to have a refresh token to reuse …), not the rows.
    let setupIssued = 0;
    const descriptions = new Map<string, string>();
    for (const c of CASES) {
      if (c.send) {
        const res = await c.send(f);
        const text = await res.text();
        assert.equal(res.status, c.status, `${c.name}: ${text.slice(0, 600)}`);
        assert.equal(res.headers.get('cache-control'), 'no-store', c.name);
        let error: string | undefined;
        let aadsts: number | undefined;
        if (res.status === 302) {
          // After the redirect URI is validated: back to that registered URI, with the error.
          const location = new URL(res.headers.get('location')!);
          assert.equal(`${location.origin}${location.pathname}`, CALLBACK, c.name);
          assert.equal(location.searchParams.get('code'), null, c.name);
          error = location.searchParams.get('error') ?? undefined;
          aadsts = Number(/^AADSTS(\d+):/.exec(location.searchParams.get('error_description') ?? '')?.[1]);
        } else {
          // Before: a page, never a redirect.
          assert.equal(res.headers.get('location'), null, `${c.name} must not redirect`);
          assert.match(res.headers.get('content-type') ?? '', /^text\/html/, c.name);
          error = /data-oauth-error="([^"]*)"/.exec(text)?.[1];
          aadsts = Number(/data-aadsts="(\d+)"/.exec(text)?.[1]);
          assert.ok(!text.includes(USER_PASSWORD), `${c.name} echoes the password`);
        }
        assert.equal(error, c.error, `${c.name}: ${text.slice(0, 600)}`);
        if (c.aadsts !== undefined) assert.equal(aadsts, c.aadsts, `${c.name}: ${text.slice(0, 600)} ${res.headers.get('location')}`);
        assert.equal((await fetch(`${f.t.url}/healthz`)).status, 200, `healthy after ${c.name}`);
        continue;
      }
      let prepared: Record<string, string> | undefined;
      if (c.prepare) {
        const start = await issued();
        prepared = await c.prepare(f);
        setupIssued += (await issued()) - start;
      }
      const res = await fetch(`${f.t.url}${c.path?.(f) ?? `/${f.t.tenantId}/oauth2/v2.0/token`}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...c.headers?.(f) },
        body: c.body?.(f) ?? new URLSearchParams(prepared ?? c.form?.(f)).toString(),
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
    assert.equal(await issued(), before + setupIssued, 'no row issued a token');
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
