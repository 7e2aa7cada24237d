// The device code grant and refresh-token revocation against a live server:
//   - @azure/identity DeviceCodeCredential (tenant `adfs`, and a tenant id with
//     disableInstanceDiscovery) with the test playing the user on the device page;
//   - @azure/identity AuthorizationCodeCredential (a confidential web app) with a code the
//     test got by playing the browser; every token verified with jose against the JWKS;
//   - RFC 8628 polling answers: authorization_pending, slow_down, access_denied,
//     expired_token; wrong user codes rate-limited;
//   - a user disabled, deleted, with a password reset, or whose sessions an administrator
//     revoked (POST /users/{id}/revokeSignInSessions) can no longer refresh.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthorizationCodeCredential, DeviceCodeCredential, type DeviceCodeInfo } from '@azure/identity';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createUser, formsOf, pageError, registerApp, TestBrowser } from '../helpers/browser-signin.js';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, graph, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PASSWORD = 'Copper-lantern-river-93';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('device code and authorization code with @azure/identity', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let admin: string;
  let device: { appId: string };

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--device-code-interval-seconds', '1'] });
    t = await tenantOf(server);
    admin = await userToken(t, 'admin', t.adminPassword);
    await createUser(t, admin, 'dave-device', PASSWORD);
    device = await registerApp(t, admin, { displayName: 'Device Tool', isFallbackPublicClient: true });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  for (const [label, tenant] of [['tenant adfs', 'adfs'], ['tenant id, no instance discovery', '']] as const) {
    it(`DeviceCodeCredential (${label}) with the test on the device page`, async () => {
      const browser = new TestBrowser(t.url);
      const pages: Promise<unknown>[] = [];
      const credential = new DeviceCodeCredential({
        tenantId: tenant || t.tenantId, clientId: device.appId, authorityHost: t.url, disableInstanceDiscovery: true,
        userPromptCallback: (info: DeviceCodeInfo) => {
          assert.match(info.userCode, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
          assert.equal(info.verificationUri, `${t.url}/devicelogin`);
          pages.push(browser.approveDevice(info.userCode, 'dave-device', PASSWORD).then((done) => {
            assert.equal(done.status, 200, done.text);
            assert.match(done.text, /Device Tool/);
            assert.match(done.text, /id="display-name">Dave device</, 'the page names the signed-in user');
          }));
        },
      });
      const scope = `${t.url}//.default`;
      const token = await withTimeout(credential.getToken(scope), 60_000, 'device code sign-in');
      await Promise.all(pages);
      const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/v2.0/keys`));
      const { payload } = await jwtVerify(token.token, jwks, { audience: `${t.url}/` });
      assert.equal(payload.idtyp, 'user');
      // The cached refresh token gets a token for another audience without the device page.
      const vault = await withTimeout(credential.getToken('https://vault.azure.net/.default'), 30_000, 'refresh');
      const { payload: v } = await jwtVerify(vault.token, jwks, { audience: 'https://vault.azure.net' });
      assert.equal(v.oid, payload.oid);
    });
  }

  it('AuthorizationCodeCredential redeems a code for a confidential web app', async () => {
    const sp = await createServicePrincipal(t, admin, 'Web Portal');
    const redirect = 'https://portal.example.test/signin-oidc';
    assert.equal((await graph(t, admin, 'PATCH', `/applications/${sp.applicationId}`, { web: { redirectUris: [redirect] } })).status, 204);
    const browser = new TestBrowser(t.url);
    const authorize = `${t.url}/${t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: sp.appId, redirect_uri: redirect, response_type: 'code', scope: 'openid profile offline_access https://vault.azure.net/.default', state: 's1' })}`;
    const callback = await browser.signIn(authorize, 'dave-device', PASSWORD);
    assert.equal(callback.origin, 'https://portal.example.test');
    const credential = new AuthorizationCodeCredential(t.tenantId, sp.appId, sp.secret, callback.searchParams.get('code')!, redirect, { authorityHost: t.url, disableInstanceDiscovery: true });
    const token = await withTimeout(credential.getToken('https://vault.azure.net/.default'), 30_000, 'code redemption');
    const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(token.token, jwks, { audience: 'https://vault.azure.net', issuer: `${t.url}/${t.tenantId}/v2.0` });
    assert.equal(payload.azp, sp.appId);
    assert.equal(payload.azpacr, '1');
    // The same code without the secret is refused for a web redirect of a confidential app.
    const again = await browser.signIn(authorize, 'dave-device', PASSWORD);
    const bare = await postForm(t.tokenUrl, { grant_type: 'authorization_code', client_id: sp.appId, code: again.searchParams.get('code')!, redirect_uri: redirect });
    assert.equal(bare.status, 401);
    assert.deepEqual(bare.body.error_codes, [7000218]);
  });
});

describe('device polling answers, user-code guessing and refresh revocation', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let admin: string;
  let app: { appId: string };

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--device-code-interval-seconds', '2', '--device-code-lifetime-seconds', '3'] });
    t = await tenantOf(server);
    admin = await userToken(t, 'admin', t.adminPassword);
    app = await registerApp(t, admin, { displayName: 'Poller', isFallbackPublicClient: true, publicClient: { redirectUris: ['http://localhost/cb'] } });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  const start = async () => {
    const res = await postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/devicecode`, { client_id: app.appId, scope: 'openid offline_access' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { device_code: string; user_code: string; interval: number };
  };
  const poll = (deviceCode: string) => postForm(t.tokenUrl, { grant_type: DEVICE, client_id: app.appId, device_code: deviceCode });

  it('answers authorization_pending, slow_down, access_denied and expired_token', async () => {
    const started = await start();
    assert.equal(started.interval, 2);
    const first = await poll(started.device_code);
    assert.equal(first.body.error, 'authorization_pending');
    const fast = await poll(started.device_code);
    assert.equal(fast.body.error, 'slow_down');
    assert.equal(fast.body.access_token, undefined);
    // The user declines on the device page.
    const browser = new TestBrowser(t.url);
    const codePage = await browser.request('/devicelogin');
    const form = new Map(formsOf(codePage.text)[0]!.fields);
    form.set('user_code', started.user_code.toLowerCase().replace('-', ' '));
    const signIn = await browser.request('/devicelogin', { form });
    assert.match(signIn.text, /Poller/);
    const deny = new Map(formsOf(signIn.text).at(-1)!.fields);
    deny.set('kh_action', 'deny');
    const denied = await browser.request('/devicelogin', { form: deny });
    assert.match(denied.text, /id="device-denied"/);
    await new Promise((r) => setTimeout(r, 2100)); // the configured 2 s interval, not an expiry
    const declined = await poll(started.device_code);
    assert.equal(declined.body.error, 'access_denied', JSON.stringify(declined.body));
    // A code nobody approves expires (lifetime configured to 3 s).
    const late = await start();
    await new Promise((r) => setTimeout(r, 3100));
    const expired = await poll(late.device_code);
    assert.equal(expired.body.error, 'expired_token', JSON.stringify(expired.body));
  });

  it('rate-limits wrong user codes per address', async () => {
    const started = await start();
    const browser = new TestBrowser(t.url);
    const guess = async (code: string) => {
      const page = await browser.request('/devicelogin');
      const form = new Map(formsOf(page.text)[0]!.fields);
      form.set('user_code', code);
      return browser.request('/devicelogin', { form });
    };
    for (let i = 0; i < 5; i++) {
      const wrong = await guess('BCDF-GHJK');
      assert.equal(wrong.status, 400);
      assert.deepEqual(pageError(wrong.text), { error: 'invalid_grant', aadsts: 70018 });
    }
    const locked = await guess(started.user_code);
    assert.equal(locked.status, 429, 'even the right code is refused while locked');
    assert.equal(pageError(locked.text).error, 'temporarily_unavailable');
  });

  it('ends refresh families when the user is disabled, reset, revoked or deleted', async () => {
    const CALLBACK = 'http://localhost:40123/cb';
    const verifier = 'v'.repeat(43);
    const { createHash } = await import('node:crypto');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const tokensFor = async (user: string) => {
      const browser = new TestBrowser(t.url);
      const url = `${t.url}/${t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: app.appId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid offline_access', code_challenge: challenge, code_challenge_method: 'S256' })}`;
      const cb = await browser.signIn(url, user, PASSWORD);
      const res = await postForm(t.tokenUrl, { grant_type: 'authorization_code', client_id: app.appId, code: cb.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { refresh: res.body.refresh_token as string, browser, url };
    };
    const refresh = (token: string) => postForm(t.tokenUrl, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: token, scope: 'https://vault.azure.net/.default' });
    const cases: [string, (id: string) => Promise<void>, number][] = [
      ['disabled', async (id) => assert.equal((await graph(t, admin, 'PATCH', `/users/${id}`, { accountEnabled: false })).status, 204), 50057],
      ['password reset', async (id) => assert.equal((await graph(t, admin, 'PATCH', `/users/${id}`, { passwordProfile: { password: 'Fresh-granite-orchard-55' } })).status, 204), 50173],
      ['sessions revoked', async (id) => {
        const res = await graph<{ value: boolean }>(t, admin, 'POST', `/users/${id}/revokeSignInSessions`);
        assert.equal(res.status, 200);
        assert.equal(res.body.value, true);
      }, 50173],
      ['deleted', async (id) => assert.equal((await graph(t, admin, 'DELETE', `/users/${id}`)).status, 204), 50173],
    ];
    for (const [what, act, aadsts] of cases) {
      const name = `erin-${what.replace(/ /g, '-')}`;
      const id = await createUser(t, admin, name, PASSWORD);
      const { refresh: token, browser, url } = await tokensFor(name);
      const ok = await refresh(token);
      assert.equal(ok.status, 200, `${what}: ${JSON.stringify(ok.body)}`);
      await act(id);
      const refused = await refresh(ok.body.refresh_token as string);
      assert.equal(refused.status, 400, `${what}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'invalid_grant', what);
      assert.deepEqual(refused.body.error_codes, [aadsts], `${what}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.access_token, undefined);
      // The browser session ended too: prompt=none is login_required.
      const silent = await browser.request(`${url}&prompt=none`);
      assert.equal(new URL(silent.location!).searchParams.get('error'), 'login_required', what);
    }
  });
});
