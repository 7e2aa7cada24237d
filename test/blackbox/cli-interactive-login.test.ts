// `keyhaven login` without a password on the command line, against a live server, as a person
// at a terminal meets it: the browser sign-in (authorization code + PKCE through a one-shot
// loopback listener; no browser can be opened here, so the CLI prints the address and the test
// plays the browser on it) and `--use-device-code` (the test plays the user on /devicelogin).
// The login keeps a refresh token, sealed in the cache: `account get-access-token` then gets a
// token for any audience (the vault's too), and `keyhaven logout` revokes its family on the
// server, so a copy of the cache taken before the logout no longer works.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createUser, TestBrowser } from '../helpers/browser-signin.js';
import { blackboxStorage, cleanEnv, ROOT, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { startStreaming, type StreamingProcess } from '../helpers/streaming-process.js';
import { tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PASSWORD = 'Saffron-lighthouse-ember-73';

/** The CLI in the background, with no display and no $BROWSER: it can open no browser and prints the address. */
function startCli(args: string[], configDir: string): StreamingProcess {
  return startStreaming(process.execPath, [join(ROOT, 'bin/keyhaven.js'), ...args], cleanEnv({ KEYHAVEN_CONFIG_DIR: configDir, DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '' }));
}

describe('keyhaven login in the browser and with a device code', () => {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-cli-interactive-'));
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  const kh = (dir: string, ...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: dir } });

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--device-code-interval-seconds', '1'] });
    t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    await createUser(t, admin, 'hana', PASSWORD);
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('browser: prints the address, the sign-in returns to its loopback listener, and the login keeps a refresh token; logout revokes it', async () => {
    const dir = join(work, 'browser');
    const cli = startCli(['login', '--server', server.url, '--timeout', '60'], dir);
    const [, address] = await cli.stderrMatch(/^(https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+)$/m);
    const authorize = new URL(address!);
    assert.equal(authorize.searchParams.get('client_id'), '04b07795-8ddb-461a-bbee-02f9e1bf7b46', "the Azure CLI's public client");
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(authorize.searchParams.get('scope')!, /offline_access/);

    const browser = new TestBrowser(t.url);
    const page = await browser.request(address!);
    assert.equal(page.status, 200, page.text.slice(0, 500));
    assert.match(page.text, /Microsoft Azure CLI/);
    const back = await browser.submitPassword(page, 'hana@keyhaven.local', PASSWORD);
    assert.equal(back.status, 303, back.text.slice(0, 500));
    // The browser follows the redirect to the CLI's listener.
    const landing = await fetch(back.location!, { signal: AbortSignal.timeout(30_000) });
    assert.equal(landing.status, 200);
    assert.match(await landing.text(), /You have signed in/);
    const { code, stdout, stderr } = await cli.done;
    assert.equal(code, 0, stderr);
    const accounts = JSON.parse(stdout) as { user: { name: string; type: string } }[];
    assert.deepEqual(accounts[0]!.user, { name: 'hana@keyhaven.local', type: 'user' });

    // Any audience, from the refresh token: the vault (the Azure name for it) here, the
    // directory after the device-code login below (not here: the copy must not have it cached).
    const vault = JSON.parse((await kh(dir, 'account', 'get-access-token', '--resource', 'https://vault.azure.net')).stdout) as { accessToken: string };
    assert.equal(decodeJwt(vault.accessToken).aud, 'https://vault.azure.net');
    // Nothing of it in plaintext on disk.
    const cache = readFileSync(join(dir, 'token-cache.json'), 'utf8');
    assert.ok(!cache.includes(vault.accessToken) && !cache.includes('eyJ'), 'the cache holds sealed entries only');

    // A copy of the login taken now, then logout: the copy's refresh token is revoked too.
    const copy = join(work, 'browser-copy');
    cpSync(dir, copy, { recursive: true });
    const out = await kh(dir, 'logout');
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /WARNING/, 'the revocation succeeded');
    const stale = await kh(copy, 'account', 'get-access-token', '--resource', `${t.url}/graph/`);
    assert.notEqual(stale.code, 0, 'the copied refresh token no longer works');
    assert.match(stale.stderr, /AADSTS\d+/);
    const records = JSON.parse((await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--top', '1000'])).stdout) as { action: string; outcome: string }[];
    assert.ok(records.some((r) => r.action === 'token.revoke' && r.outcome === 'success'), 'the revocation is audited');
  });

  it('--use-device-code: prints the code, polls until the user approves on /devicelogin', async () => {
    const dir = join(work, 'device');
    const cli = startCli(['login', '--server', server.url, '--use-device-code', '--timeout', '60'], dir);
    const [, page, userCode] = await cli.stderrMatch(/open the page (\S+) and enter the code (\S+) to authenticate/);
    assert.equal(new URL(page!).pathname, '/devicelogin');
    const browser = new TestBrowser(t.url);
    const done = await browser.approveDevice(userCode!, 'hana@keyhaven.local', PASSWORD);
    assert.match(done.text, /id="device-done"/, done.text.slice(0, 500));
    const { code, stdout, stderr } = await cli.done;
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as { user: { name: string } }[])[0]!.user.name, 'hana@keyhaven.local');
    const token = JSON.parse((await kh(dir, 'account', 'get-access-token', '--resource-type', 'ms-graph')).stdout) as { accessToken: string };
    assert.equal(decodeJwt(token.accessToken).aud, `${t.url}/graph/`);
    const users = await kh(dir, 'ad', 'user', 'list', '--query', '[].userPrincipalName');
    assert.equal(users.code, 0, users.stderr);
    assert.ok((JSON.parse(users.stdout) as string[]).includes('hana@keyhaven.local'));
  });

  it('refuses credentials beside --use-device-code, and gives up when nobody signs in', async () => {
    const mixed = await kh(join(work, 'mixed'), 'login', '--server', server.url, '--use-device-code', '--username', 'hana');
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--use-device-code signs a user in interactively/);
    const cli = startCli(['login', '--server', server.url, '--timeout', '1'], join(work, 'nobody'));
    const { code, stderr } = await cli.done;
    assert.equal(code, 1);
    assert.match(stderr, /not completed within 1 seconds/);
  });
});
