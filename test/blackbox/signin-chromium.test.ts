// The sign-in and device pages in a real browser: Debian's Chromium, headless, driven by
// playwright-core. TLS is verified as usual: Chromium runs with a temporary HOME whose NSS
// database trusts the test CA (certutil, from libnss3-tools). A person's steps — type the user
// name and password, press Sign in — end in the redirect back to the application with a code;
// on the device page, type the code, then the password. Screenshots go to test-results/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createUser, registerApp } from '../helpers/browser-signin.js';
import { oathtoolCode } from '../helpers/oathtool.js';
import { blackboxStorage, ROOT, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { graph, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PASSWORD = 'Violet-harbor-compass-27';
const RESULTS = join(ROOT, 'test-results');

/** A HOME whose NSS database (what Chromium on Linux trusts) holds the test CA. */
function trustingHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'kh-chromium-'));
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  try {
    execFileSync('certutil', ['-H'], { stdio: 'ignore', timeout: 30_000 });
  } catch (err) {
    // certutil -H exits 1 after printing help; only a missing binary is a problem.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('certutil not found: install libnss3-tools (Debian) so Chromium can be given the test CA');
  }
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password'], { stdio: 'pipe', timeout: 30_000 });
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'keyhaven-test-ca', '-i', TEST_CA_CERT], { stdio: 'pipe', timeout: 30_000 });
  return home;
}

describe('sign-in pages in headless Chromium', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let app: { appId: string };
  let browser: Browser;
  let browserHome: string;
  let callbackServer: Server;
  let callbackPort: number;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--device-code-interval-seconds', '1'] });
    t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    await createUser(t, admin, 'frank-browser', PASSWORD);
    const gina = await createUser(t, admin, 'gina-browser', PASSWORD);
    const required = await graph(t, admin, 'PATCH', `/users/${gina}/authentication/requirements`, { perUserMfaState: 'enforced' });
    assert.equal(required.status, 204, JSON.stringify(required.body));
    app = await registerApp(t, admin, { displayName: 'Chromium Demo', isFallbackPublicClient: true, publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
    // The application's loopback listener (RFC 8252 §7.3): answers the redirect with a page.
    callbackServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>done</title><p>Signed in.</p>'));
    await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', r));
    callbackPort = (callbackServer.address() as { port: number }).port;
    browserHome = trustingHome();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      env: { ...process.env, HOME: browserHome },
    });
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => callbackServer?.close(r));
    await server?.stop();
    await storage?.drop();
    if (browserHome) rmSync(browserHome, { recursive: true, force: true });
    remove();
  });

  it('signs in with the password and is redirected with a code', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const verifier = randomBytes(32).toString('base64url');
      const redirect = `http://127.0.0.1:${callbackPort}/callback`;
      const url = `${t.url}/${t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({
        client_id: app.appId, redirect_uri: redirect, response_type: 'code', scope: 'openid profile offline_access', state: 'chromium-state',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      })}`;
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      assert.equal(await page.textContent('#app-name'), 'Chromium Demo');
      await page.getByLabel('User name or email').fill('frank-browser');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.screenshot({ path: join(RESULTS, 'signin-page.png'), fullPage: true });
      await Promise.all([page.waitForURL(`${redirect}?**`), page.getByRole('button', { name: 'Sign in' }).click()]);
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('state'), 'chromium-state');
      const code = back.searchParams.get('code');
      assert.ok(code);
      await page.screenshot({ path: join(RESULTS, 'signin-redirected.png') });
      const tokens = await postForm(t.tokenUrl, { grant_type: 'authorization_code', client_id: app.appId, code, redirect_uri: redirect, code_verifier: verifier });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.ok(tokens.body.id_token && tokens.body.refresh_token);
    } finally {
      await context.close();
    }
  });

  it('signs a device in on the device page', async () => {
    const started = await postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/devicecode`, { client_id: app.appId, scope: 'openid offline_access' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(started.body.verification_uri as string);
      await page.getByLabel('Code').fill(started.body.user_code as string);
      await page.screenshot({ path: join(RESULTS, 'device-code-page.png'), fullPage: true });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForSelector('#app-name');
      assert.equal(await page.textContent('#app-name'), 'Chromium Demo');
      await page.getByLabel('User name or email').fill('frank-browser@keyhaven.local');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.screenshot({ path: join(RESULTS, 'device-signin-page.png'), fullPage: true });
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('#device-done');
      assert.equal(await page.textContent('#display-name'), 'Frank browser');
      await page.screenshot({ path: join(RESULTS, 'device-done-page.png'), fullPage: true });
    } finally {
      await context.close();
    }
    const tokens = await postForm(t.tokenUrl, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: app.appId, device_code: started.body.device_code as string });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.ok(tokens.body.access_token && tokens.body.refresh_token);
  });

  it('with TOTP: adds an authenticator app on the page (the QR code renders), then signs in with its code', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const verifier = randomBytes(32).toString('base64url');
      const redirect = `http://127.0.0.1:${callbackPort}/callback`;
      await page.goto(`${t.url}/${t.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({
        client_id: app.appId, redirect_uri: redirect, response_type: 'code', scope: 'openid profile', state: 'totp-state',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      })}`);
      await page.getByLabel('User name or email').fill('gina-browser@keyhaven.local');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('#mfa-enrol');
      // The QR code is an image the page's CSP lets the browser decode and draw.
      const qr = page.locator('#mfa-qr');
      await qr.waitFor();
      // (The page's own image element; this suite is compiled without the DOM library.)
      const drawn = await qr.evaluate((img) => { const image = img as unknown as { decode(): Promise<void>; naturalWidth: number }; return image.decode().then(() => image.naturalWidth); });
      assert.ok(drawn > 0, 'the QR code image is drawn');
      assert.ok((await qr.getAttribute('alt'))!.length > 0);
      await page.screenshot({ path: join(RESULTS, 'signin-mfa-enrol.png'), fullPage: true });
      const secret = (await page.textContent('#mfa-secret'))!.trim();
      assert.match(secret, /^[A-Z2-7]{32}$/);
      await page.getByLabel('Code').fill(oathtoolCode(secret));
      await Promise.all([page.waitForURL(`${redirect}?**`), page.getByRole('button', { name: 'Verify' }).click()]);
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('state'), 'totp-state');
      const tokens = await postForm(t.tokenUrl, { grant_type: 'authorization_code', client_id: app.appId, code: back.searchParams.get('code')!, redirect_uri: redirect, code_verifier: verifier });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    } finally {
      await context.close();
    }
  });
});
