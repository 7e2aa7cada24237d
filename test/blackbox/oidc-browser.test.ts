// The browser sign-in against a live server with openid-client 6 as the relying party and the
// test playing the browser (cookies kept, forms posted with their CSRF field): OpenID discovery
// → authorization code + PKCE → ID token (jose: signature against the JWKS, nonce, at_hash) →
// userinfo → refresh (rotation) → RP-initiated logout; single sign-on for a second
// application; prompt=none without a session; prompt=login asking the password again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { createUser, pageError, passwordForm, registerApp, TestBrowser } from '../helpers/browser-signin.js';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PASSWORD = 'Amber-kettle-meadow-48';
const CALLBACK = 'http://127.0.0.1:53682/callback';

const atHash = (token: string) => createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');

describe('browser sign-in with openid-client', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let appA: { appId: string };
  let appB: { appId: string };

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    await createUser(t, admin, 'carol-signin', PASSWORD, { mail: 'carol@example.test', givenName: 'Carol', surname: 'Signin' });
    // Loopback redirect registered without a port: any port matches (RFC 8252 §7.3).
    appA = await registerApp(t, admin, { displayName: 'Notebook App', publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
    appB = await registerApp(t, admin, { displayName: 'Second App', spa: { redirectUris: [CALLBACK] } });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  async function configFor(clientId: string): Promise<oidc.Configuration> {
    return oidc.discovery(new URL(`${t.url}/${t.tenantId}/v2.0`), clientId, undefined, oidc.None());
  }

  async function authorizeUrl(config: oidc.Configuration, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK, scope: 'openid profile email offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256', nonce, state, ...extra,
    });
    return { url: url.href, verifier, nonce, state };
  }

  it('discovery, code + PKCE, ID token, userinfo, refresh and logout', async () => {
    const config = await configFor(appA.appId);
    const meta = config.serverMetadata();
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.ok(meta.end_session_endpoint && meta.userinfo_endpoint && meta.device_authorization_endpoint, JSON.stringify(meta));
    assert.ok(meta.grant_types_supported?.includes('authorization_code') && meta.grant_types_supported.includes('refresh_token'));
    const jwks = createRemoteJWKSet(new URL(meta.jwks_uri!));

    const browser = new TestBrowser(t.url);
    const req = await authorizeUrl(config, { login_hint: 'carol-signin@keyhaven.local' });
    const page = await browser.request(req.url);
    assert.equal(page.status, 200);
    assert.match(page.text, /Notebook App/, 'the sign-in page names the application');
    assert.match(page.text, /<label for="password">/);
    assert.match(page.text, /value="carol-signin@keyhaven.local"/, 'login_hint fills the user name');
    assert.ok(passwordForm(page.text).fields.get('csrf_token'), 'the form carries a CSRF token');
    const setCookies = page.headers.getSetCookie();
    assert.ok(setCookies.some((c) => /^__Host-kh-csrf=/.test(c) && /Secure/.test(c) && /HttpOnly/.test(c) && /SameSite=Lax/.test(c) && /Path=\//.test(c)), setCookies.join(' | '));

    // A wrong password shows the form again with the error.
    const wrong = await browser.submitPassword(page, 'carol-signin@keyhaven.local', 'not-the-password-1');
    assert.equal(wrong.status, 200);
    assert.deepEqual(pageError(wrong.text), { error: 'invalid_grant', aadsts: 50126 });

    const answer = await browser.submitPassword(wrong, 'carol-signin@keyhaven.local', PASSWORD);
    assert.equal(answer.status, 303, answer.text);
    const callback = new URL(answer.location!);
    assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.ok(browser.jar.has('__Host-kh-session'), 'a sign-in session cookie');

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token);
    const { payload: id } = await jwtVerify(tokens.id_token!, jwks, { issuer: meta.issuer, audience: appA.appId });
    assert.equal(id.nonce, req.nonce);
    assert.equal(id.at_hash, atHash(tokens.access_token));
    assert.equal(id.name, 'Carol signin');
    assert.equal(id.preferred_username, 'carol-signin@keyhaven.local');
    assert.equal(id.email, 'carol@example.test');
    assert.equal(typeof id.auth_time, 'number');
    const { payload: access } = await jwtVerify(tokens.access_token, jwks, { issuer: meta.issuer, audience: `${t.url}/graph/` });
    assert.equal(access.sub, id.sub);
    assert.equal(access.azp, appA.appId);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, id.sub!);
    assert.equal(info.sub, id.sub);
    assert.equal(info.given_name, 'Carol');
    assert.equal(info.email, 'carol@example.test');

    // The code is single use: a replay is refused and revokes the refresh token it produced.
    const replay = await fetch(meta.token_endpoint!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: appA.appId, code: callback.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: req.verifier }) });
    assert.equal(replay.status, 400);
    assert.deepEqual(((await replay.json()) as { error_codes: number[] }).error_codes, [54005]);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (err: Error & { error?: string }) => err.error === 'invalid_grant');

    // A fresh sign-in (single sign-on: no password now) gives a refresh token that rotates.
    const again = await authorizeUrl(config);
    const sso = await browser.request(again.url);
    assert.equal(sso.status, 302, 'single sign-on answers at once');
    const second = await oidc.authorizationCodeGrant(config, new URL(sso.location!), { pkceCodeVerifier: again.verifier, expectedNonce: again.nonce, expectedState: again.state });
    const refreshed = await oidc.refreshTokenGrant(config, second.refresh_token!);
    assert.ok(refreshed.access_token && refreshed.refresh_token && refreshed.refresh_token !== second.refresh_token);
    await jwtVerify(refreshed.access_token, jwks, { issuer: meta.issuer, audience: `${t.url}/graph/` });
    if (refreshed.id_token) await jwtVerify(refreshed.id_token, jwks, { issuer: meta.issuer, audience: appA.appId });
    // A refresh token for another audience the user may use: management, vault.
    let latest = refreshed.refresh_token!;
    for (const scope of [`${t.url}//.default`, 'https://vault.azure.net/.default']) {
      const other = await oidc.refreshTokenGrant(config, latest, { scope });
      const { payload } = await jwtVerify(other.access_token, jwks, { issuer: meta.issuer });
      assert.equal(payload.aud, scope.replace(/\/\.default$/, ''));
      latest = other.refresh_token!;
    }
    // Reusing a rotated refresh token revokes the whole family.
    await assert.rejects(oidc.refreshTokenGrant(config, second.refresh_token!), (err: Error & { error?: string }) => err.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(config, latest), (err: Error & { error?: string }) => err.error === 'invalid_grant');

    // RFC 7009 revocation ends a refresh token's family (what `keyhaven logout` calls).
    assert.ok(meta.revocation_endpoint, 'discovery lists the revocation endpoint');
    const third = await authorizeUrl(config);
    const thirdAnswer = await browser.request(third.url);
    const thirdTokens = await oidc.authorizationCodeGrant(config, new URL(thirdAnswer.location!), { pkceCodeVerifier: third.verifier, expectedNonce: third.nonce, expectedState: third.state });
    await oidc.tokenRevocation(config, thirdTokens.refresh_token!, { token_type_hint: 'refresh_token' });
    await assert.rejects(oidc.refreshTokenGrant(config, thirdTokens.refresh_token!), (err: Error & { error?: string }) => err.error === 'invalid_grant');

    // RP-initiated logout ends the session and returns to a registered URI with the state.
    const logoutUrl = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: CALLBACK, id_token_hint: second.id_token!, state: 'bye' });
    const out = await browser.request(logoutUrl.href);
    assert.equal(out.status, 302);
    assert.equal(out.location, `${CALLBACK}?state=bye`);
    assert.ok(!browser.jar.has('__Host-kh-session'));
    const none = await browser.request((await authorizeUrl(config, { prompt: 'none' })).url);
    assert.equal(none.status, 302);
    assert.equal(new URL(none.location!).searchParams.get('error'), 'login_required');
    // An unregistered post-logout URI is not followed.
    const open = await browser.request(oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: 'https://evil.example/', id_token_hint: second.id_token! }).href);
    assert.equal(open.status, 200);
    assert.equal(open.location, undefined);
  });

  it('single sign-on for a second application; prompt=none and prompt=login', async () => {
    const browser = new TestBrowser(t.url);
    const configA = await configFor(appA.appId);
    const configB = await configFor(appB.appId);
    // prompt=none without a session: login_required, back to the client with the state.
    const silent = await authorizeUrl(configB, { prompt: 'none' });
    const noSession = await browser.request(silent.url);
    assert.equal(noSession.status, 302);
    const err = new URL(noSession.location!);
    assert.equal(err.searchParams.get('error'), 'login_required');
    assert.equal(err.searchParams.get('state'), silent.state);

    const first = await authorizeUrl(configA);
    await browser.signIn(first.url, 'carol-signin', PASSWORD);
    // The second application: no password, and prompt=none now works too.
    for (const prompt of [undefined, 'none']) {
      const req = await authorizeUrl(configB, prompt ? { prompt } : {});
      const answer = await browser.request(req.url);
      assert.equal(answer.status, 302, answer.text.slice(0, 500));
      const tokens = await oidc.authorizationCodeGrant(configB, new URL(answer.location!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
      assert.equal(decodeJwt(tokens.id_token!).aud, appB.appId);
    }
    // prompt=login asks for the password though a session exists.
    const forced = await authorizeUrl(configB, { prompt: 'login' });
    const page = await browser.request(forced.url);
    assert.equal(page.status, 200);
    assert.match(page.text, /Second App/);
    assert.match(page.text, /name="password"/);
    const done = await browser.submitPassword(page, 'carol-signin', PASSWORD);
    assert.equal(done.status, 303);
    // prompt=select_account offers the signed-in user by name.
    const pick = await browser.request((await authorizeUrl(configB, { prompt: 'select_account' })).url);
    assert.match(pick.text, /Continue as Carol signin/);
  });

  it('asks a user marked forceChangePasswordNextSignIn for a new password; the password grant refuses them', async () => {
    const admin = await userToken(t, 'admin', t.adminPassword);
    await createUser(t, admin, 'gina-change', PASSWORD, { passwordProfile: { password: PASSWORD, forceChangePasswordNextSignIn: true } });
    const ropc = await postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'gina-change', password: PASSWORD, scope: `${t.url}//.default` });
    assert.equal(ropc.status, 400);
    assert.deepEqual(ropc.body.error_codes, [50055]);
    const config = await configFor(appA.appId);
    const browser = new TestBrowser(t.url);
    const req = await authorizeUrl(config);
    const page = await browser.request(req.url);
    const change = await browser.submitPassword(page, 'gina-change', PASSWORD);
    assert.equal(change.status, 200);
    assert.match(change.text, /id="change-required"/);
    assert.ok(!browser.jar.has('__Host-kh-session'), 'no session before the new password');
    const submit = async (from: typeof change, current: string, next: string, confirm = next) => {
      const fields = new Map(passwordForm(from.text).fields);
      fields.set('current_password', current);
      fields.set('new_password', next);
      fields.set('confirm_password', confirm);
      fields.set('kh_action', 'change');
      return browser.request(new URL(passwordForm(from.text).action, from.url).href, { form: fields });
    };
    const mismatch = await submit(change, PASSWORD, 'Granite-willow-signal-64', 'Granite-willow-signal-65');
    assert.match(mismatch.text, /do not match/);
    const weak = await submit(mismatch, PASSWORD, 'password1234');
    assert.match(weak.text, /most common passwords/, 'the password policy applies');
    const done = await submit(weak, PASSWORD, 'Granite-willow-signal-64');
    assert.equal(done.status, 303, done.text.slice(0, 800));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    assert.ok(tokens.access_token);
    assert.equal((await postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'gina-change', password: 'Granite-willow-signal-64', scope: `${t.url}//.default` })).status, 200);
  });
});
