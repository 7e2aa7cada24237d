// The sign-in pages ask for the second factor, against a live server: after the right password,
// a user who must use one gets the code page (or, with no authenticator yet, Entra's proof-up:
// a QR code and its key to add one, then its first code). Codes come from Debian's oathtool, an
// implementation independent of Keyhaven's. The code the browser redeems at the v1 endpoints
// (whose tokens carry `amr`, as Entra's v1 tokens do; v2 ones do not) gives tokens whose
// `amr` says pwd, otp and mfa (RFC 8176); single sign-on carries the second factor, and a
// session without it never stands in for it — not for prompt=none, not on the device page, not
// with a ticket copied into another browser.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createUser, decodeHtml, formsOf, pageError, registerApp, TestBrowser, type AppFixture, type PageAnswer } from '../helpers/browser-signin.js';
import { oathtoolCode } from '../helpers/oathtool.js';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { graph, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PASSWORD = 'Juniper-harbour-lantern-62';
const CALLBACK = 'http://127.0.0.1:8400/callback';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

describe('sign-in pages with a second factor (TOTP), against a live server', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let admin: string;
  let app: AppFixture;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--device-code-interval-seconds', '1'] });
    t = await tenantOf(server);
    admin = await userToken(t, 'admin', t.adminPassword);
    app = await registerApp(t, admin, { displayName: 'Lab Notebook', isFallbackPublicClient: true, publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  const graphResource = () => `${t.url}/graph/`;
  const v1TokenUrl = () => `${t.url}/${t.tenantId}/oauth2/token`;

  async function requireMfa(userId: string): Promise<void> {
    const res = await graph(t, admin, 'PATCH', `/users/${userId}/authentication/requirements`, { perUserMfaState: 'enforced' });
    assert.equal(res.status, 204, JSON.stringify(res.body));
  }

  function authorizeUrl(extra: Record<string, string> = {}): { url: string; verifier: string } {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${t.url}/${t.tenantId}/oauth2/authorize`);
    const params = {
      client_id: app.appId, response_type: 'code', redirect_uri: CALLBACK, resource: graphResource(), scope: 'openid profile offline_access', state: 'st-1', nonce: 'n-1',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', ...extra,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { url: url.href, verifier };
  }

  async function redeem(location: string, verifier: string): Promise<{ idToken: Record<string, unknown>; accessToken: Record<string, unknown> }> {
    const callback = new URL(location);
    assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK, location);
    assert.equal(callback.searchParams.get('state'), 'st-1');
    const code = callback.searchParams.get('code');
    assert.ok(code, `a code in ${location}`);
    const res = await postForm(v1TokenUrl(), { grant_type: 'authorization_code', client_id: app.appId, code, redirect_uri: CALLBACK, code_verifier: verifier, resource: graphResource() });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { idToken: decodeJwt(String(res.body.id_token)), accessToken: decodeJwt(String(res.body.access_token)) };
  }

  const secretOnPage = (page: PageAnswer) => decodeHtml(/<code id="mfa-secret">([^<]*)<\/code>/.exec(page.text)?.[1] ?? '');
  const wrongCode = (secret: string) => {
    // A six-digit code that none of the window's three steps has.
    const now = Date.now();
    const valid = new Set([-30_000, 0, 30_000].map((d) => oathtoolCode(secret, now + d)));
    return ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
  };
  let doraSecret = '';
  let doraId = '';

  it('proof-up: a required user with no authenticator adds one on the page, and its first code signs them in with amr pwd+otp+mfa', async () => {
    doraId = await createUser(t, admin, 'dora', PASSWORD);
    await requireMfa(doraId);
    const browser = new TestBrowser(t.url);
    const { url, verifier } = authorizeUrl();
    const page = await browser.request(url);
    assert.equal(page.status, 200);
    const enrol = await browser.submitPassword(page, 'dora@keyhaven.local', PASSWORD);
    assert.equal(enrol.status, 200, enrol.text.slice(0, 800));
    assert.equal(enrol.location, undefined, 'no code after the password alone');
    assert.match(enrol.text, /id="mfa-enrol"/);
    assert.match(enrol.text, /<img id="mfa-qr"[^>]* alt="[^"]+" src="data:image\/svg\+xml;base64,/, 'the QR code, with a text alternative');
    const qr = Buffer.from(/src="data:image\/svg\+xml;base64,([^"]+)"/.exec(enrol.text)![1]!, 'base64').toString('utf8');
    assert.match(qr, /^<svg[\s>]/);
    doraSecret = secretOnPage(enrol);
    assert.match(doraSecret, /^[A-Z2-7]{32}$/);
    assert.doesNotMatch(enrol.text, /name="password"/, 'the password is not asked again, nor carried in the page');
    assert.ok(!enrol.text.includes(PASSWORD));

    // A wrong code: the same key shown again (it may already be scanned), and an alert.
    const wrong = await browser.submitCode(enrol, wrongCode(doraSecret));
    assert.equal(wrong.status, 200);
    assert.equal(wrong.location, undefined);
    assert.match(wrong.text, /role="alert" id="code-error">The verification code is not valid/);
    assert.equal(secretOnPage(wrong), doraSecret);

    const done = await browser.submitCode(wrong, oathtoolCode(doraSecret));
    assert.equal(done.status, 303, done.text.slice(0, 800));
    const { idToken, accessToken } = await redeem(done.location!, verifier);
    assert.deepEqual([...(idToken.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    assert.deepEqual([...(accessToken.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    assert.equal(idToken.nonce, 'n-1');

    // Single sign-on carries the second factor: prompt=none answers with a code at once.
    const sso = authorizeUrl({ prompt: 'none' });
    const silent = await browser.request(sso.url);
    assert.equal(silent.status, 302, silent.text.slice(0, 500));
    assert.deepEqual([...((await redeem(silent.location!, sso.verifier)).idToken.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);

    // The authenticator is active now: Graph lists it (never its key).
    const methods = await graph<{ value: { secretKey: unknown }[] }>(t, admin, 'GET', `/users/${doraId}/authentication/softwareOathMethods`);
    assert.equal(methods.status, 200);
    assert.deepEqual(methods.body.value.map((m) => m.secretKey), [null]);
  });

  it('an enrolled user gets the code page; a reused code is refused; a ticket copied into another browser does not open', async () => {
    const browser = new TestBrowser(t.url);
    const { url, verifier } = authorizeUrl();
    const codePage = await browser.submitPassword(await browser.request(url), 'dora@keyhaven.local', PASSWORD);
    assert.equal(codePage.status, 200);
    assert.match(codePage.text, /id="mfa-prompt"/);
    assert.doesNotMatch(codePage.text, /mfa-secret|mfa-qr/, 'no key on the code page');
    assert.match(codePage.text, /<input id="otp_code" name="otp_code" type="text" inputmode="numeric" autocomplete="one-time-code"/);
    assert.match(codePage.text, /<label for="otp_code">/);

    // The ticket and the CSRF field, copied into a browser of its own (another cookie): refused.
    const other = new TestBrowser(t.url);
    const otherPage = await other.request(authorizeUrl().url);
    const stolen = formsOf(codePage.text).find((f) => f.fields.has('mfa_ticket'))!;
    const transplanted = new Map(formsOf(otherPage.text)[0]!.fields);
    transplanted.set('mfa_ticket', stolen.fields.get('mfa_ticket')!);
    transplanted.set('otp_code', oathtoolCode(doraSecret, Date.now() + 30_000));
    transplanted.set('kh_action', 'verify');
    const refused = await other.request(new URL(stolen.action, t.url).href, { form: transplanted });
    assert.equal(refused.location, undefined);
    assert.match(refused.text, /name="password"/, 'back to the password');
    assert.match(refused.text, /The time to finish signing in has run out/);
    // A forged ticket (another user id) in the right browser: refused the same way.
    const forged = new Map(stolen.fields);
    forged.set('mfa_ticket', stolen.fields.get('mfa_ticket')!.replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
    forged.set('otp_code', '123456');
    forged.set('kh_action', 'verify');
    const forgedAnswer = await browser.request(new URL(stolen.action, t.url).href, { form: forged });
    assert.match(forgedAnswer.text, /The time to finish signing in has run out/);

    // The code that activated the authenticator (this step's) was used: refused as reused,
    // unless the clock has moved on a step, when it is simply too old for a later one.
    const reused = await browser.submitCode(codePage, oathtoolCode(doraSecret));
    assert.equal(reused.location, undefined);
    assert.match(reused.text, /has already been used|is not valid/);

    const next = await browser.submitCode(reused, oathtoolCode(doraSecret, Date.now() + 30_000));
    assert.equal(next.status, 303, next.text.slice(0, 800));
    assert.deepEqual([...((await redeem(next.location!, verifier)).idToken.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  });

  it('a session without the second factor does not stand in for it once one is required; the device page asks for it too', async () => {
    const erinId = await createUser(t, admin, 'erin', PASSWORD);
    const browser = new TestBrowser(t.url);
    const first = authorizeUrl();
    const plain = await browser.submitPassword(await browser.request(first.url), 'erin@keyhaven.local', PASSWORD);
    assert.equal(plain.status, 303, 'no second factor required yet: the password signs in');
    assert.deepEqual((await redeem(plain.location!, first.verifier)).idToken.amr, ['pwd']);

    await requireMfa(erinId);
    const none = await browser.request(authorizeUrl({ prompt: 'none' }).url);
    assert.equal(none.status, 302);
    const error = new URL(none.location!);
    assert.equal(error.searchParams.get('error'), 'interaction_required');
    assert.match(error.searchParams.get('error_description')!, /^AADSTS50076: /);
    assert.equal(error.searchParams.get('code'), null);
    const asked = await browser.request(authorizeUrl().url);
    assert.equal(asked.status, 200, 'the sign-in page, not single sign-on');
    assert.match(asked.text, /name="password"/);
    const selectAccount = await browser.request(authorizeUrl({ prompt: 'select_account' }).url);
    assert.doesNotMatch(selectAccount.text, /Continue as/, 'the session is not offered');

    // The device page, in the same browser: the session is not offered; password, then proof-up.
    const started = await postForm(`${t.url}/${t.tenantId}/oauth2/devicecode`, { client_id: app.appId, resource: graphResource() });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const codeForm = new Map(formsOf((await browser.request('/devicelogin')).text)[0]!.fields);
    codeForm.set('user_code', String(started.body.user_code));
    codeForm.set('kh_action', 'next');
    const signIn = await browser.request('/devicelogin', { form: codeForm });
    assert.doesNotMatch(signIn.text, /Continue as/);
    // Approving with the old session anyway (a hand-made POST) is refused.
    const forcedContinue = new Map(formsOf(signIn.text)[0]!.fields);
    forcedContinue.set('kh_action', 'continue');
    const forced = await browser.request('/devicelogin', { form: forcedContinue });
    assert.doesNotMatch(forced.text, /id="device-done"/);
    const enrol = await browser.submitPassword(signIn, 'erin@keyhaven.local', PASSWORD);
    assert.match(enrol.text, /id="mfa-enrol"/);
    const pending = await postForm(v1TokenUrl(), { grant_type: DEVICE, client_id: app.appId, device_code: String(started.body.device_code) });
    assert.equal(pending.body.error, 'authorization_pending', 'not approved by the password alone');
    const done = await browser.submitCode(enrol, oathtoolCode(secretOnPage(enrol)));
    assert.match(done.text, /id="device-done"/, done.text.slice(0, 800));
    assert.deepEqual(pageError(done.text), {});
    // One poll after the configured interval (1 s): approved, so tokens.
    await new Promise((r) => setTimeout(r, 1100));
    const polled = await postForm(v1TokenUrl(), { grant_type: DEVICE, client_id: app.appId, device_code: String(started.body.device_code) });
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    const tokens = polled.body;
    assert.ok(tokens.access_token, 'the device got its tokens');
    assert.deepEqual([...(decodeJwt(String(tokens.access_token)).amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  });
});
