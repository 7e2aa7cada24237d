// The client commands (login, account, ad …) run in-process through main() against the real
// server (started once, on the test CA, with its own generated admin password), so every answer
// and every error a command handles is the server's own. The CLI is given the server as
// https://127.0.0.1:{port} while the server's public URL (issuer, audiences) names localhost:
// audiences must follow the issuer, requests the URL given. Checked: argument validation
// (exit 2, before anything is sent), the effects in the directory of what was sent, the printed
// shapes az users expect, the login-state files, tokens (decoded), and errors as one line with
// az's exit codes. Shapes that only a hostile server produces (a nextLink to another origin, an
// oversized answer) are in test/unit/cli-hostile-server.test.ts and test/unit/cli-http.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { readLogins, readSecrets, writeSecrets, type CachedToken } from '../../src/cli/login-state.js';
import { blackboxStorage, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, graph, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

const USER = 'admin';
const AZ_CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

const { home, remove } = tempHome();
let storage: { url: string; drop(): Promise<void> };
let server: ServerProcess;
let t: Tenant;
let PASSWORD: string;
let TENANT: string;
/** How the CLI names the server; the server's public URL says localhost. */
let url: string;
let publicUrl: string;
let adminToken: string;
let sp: ServicePrincipalFixture;
let dir: string;
let configDir: string;
const caFile = TEST_CA_CERT;

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'keyhaven', ...args], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: { KEYHAVEN_CONFIG_DIR: configDir },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as any };
}

const loginUser = () => run('login', '--server', url, '--ca-file', caFile, '-u', USER, '-p', PASSWORD);
const loginSp = () => run('login', '--server', url, '--ca-file', caFile, '--service-principal', '-u', sp.appId, '-p', sp.secret);

function oneErrorLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^ERROR: [^\n]+\n$/);
  assert.match(stderr, pattern);
}

function stateFiles(): string[] {
  return readdirSync(configDir).filter((f) => !f.startsWith('.'));
}

/** The current login's cached tokens, opened as the CLI opens them (the file holds them sealed). */
async function cachedTokens(): Promise<CachedToken[]> {
  const ctx = createContext({ stdout: () => undefined, stderr: () => undefined, env: { KEYHAVEN_CONFIG_DIR: configDir } });
  const { current, logins } = await readLogins(ctx);
  return (await readSecrets(ctx, logins.find((l) => l.id === current)!)).tokens;
}

/** Rewrites the current login's cached tokens (sealed again). */
async function editCachedTokens(edit: (tokens: CachedToken[]) => void): Promise<void> {
  const ctx = createContext({ stdout: () => undefined, stderr: () => undefined, env: { KEYHAVEN_CONFIG_DIR: configDir } });
  const { current, logins } = await readLogins(ctx);
  const login = logins.find((l) => l.id === current)!;
  const secrets = await readSecrets(ctx, login);
  edit(secrets.tokens);
  await writeSecrets(ctx, login.id, secrets);
}

let subscription: { subscriptionId: string; displayName: string };

/** The audience of an access token the CLI printed. */
const aud = (token: string) => decodeJwt(token).aud;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kh-cli-client-'));
  storage = await blackboxStorage(home);
  server = await startServerProcess({ home, storage: storage.url });
  t = await tenantOf(server);
  PASSWORD = t.adminPassword;
  TENANT = t.tenantId;
  publicUrl = server.url;
  url = `https://127.0.0.1:${server.port}`;
  adminToken = await userToken(t, USER, PASSWORD);
  sp = await createServicePrincipal(t, adminToken, 'cli-client-sp');
  // The admin is Owner of the default subscription made at bootstrap (issue 10): the account
  // list az prints after login names it, as GET /subscriptions gives it.
  const management = await userToken(t, USER, PASSWORD, `${publicUrl}//.default`);
  const listed = await fetch(`${url}/subscriptions?api-version=2019-11-01`, { headers: { authorization: `Bearer ${management}` } });
  assert.equal(listed.status, 200);
  const subs = ((await listed.json()) as { value: { subscriptionId: string; displayName: string }[] }).value;
  assert.equal(subs.length, 1);
  subscription = subs[0]!;
});
after(async () => {
  await server?.stop();
  await storage?.drop();
  remove();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  configDir = mkdtempSync(join(dir, 'config-'));
});

describe('keyhaven login', () => {
  it('signs a user in with the password grant as the Azure CLI client and prints az’s account list', async () => {
    const r = await loginUser();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.json(), [
      {
        cloudName: 'Keyhaven',
        homeTenantId: TENANT,
        id: subscription.subscriptionId,
        isDefault: true,
        managedByTenants: [],
        name: subscription.displayName,
        state: 'Enabled',
        tenantId: TENANT,
        user: { name: USER, type: 'user' },
      },
    ]);
    // One token per API, for the audiences the issuer names (not the URL given), issued to
    // the Azure CLI's client id.
    const claims = (await cachedTokens()).map((c) => decodeJwt(c.accessToken));
    assert.deepEqual(claims.map((c) => c.aud).sort(), [`${publicUrl}/`, `${publicUrl}/graph/`, 'https://vault.azure.net'].sort());
    for (const c of claims) {
      assert.equal(c.azp ?? c.appid, AZ_CLIENT);
      assert.equal(c.tid, TENANT);
    }
  });

  it('keeps state in 0600 files and never stores a user’s password', async () => {
    assert.equal((await loginUser()).code, 0);
    assert.deepEqual(stateFiles().sort(), ['cache-key', 'profile.json', 'token-cache.json']);
    for (const f of stateFiles()) {
      assert.equal(statSync(join(configDir, f)).mode & 0o777, 0o600, f);
      assert.ok(!readFileSync(join(configDir, f), 'utf8').includes(PASSWORD), `${f} holds the password`);
    }
    assert.equal(statSync(configDir).mode & 0o777, 0o700);
    const profile = JSON.parse(readFileSync(join(configDir, 'profile.json'), 'utf8')).logins[0];
    assert.equal(profile.server, url);
    assert.equal(profile.publicUrl, publicUrl);
    assert.equal(profile.caFile, caFile);
  });

  it('signs a service principal in with client_credentials and keeps its secret, sealed, for later tokens', async () => {
    const r = await loginSp();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json()[0].user, { name: sp.appId, type: 'servicePrincipal' });
    for (const f of stateFiles()) {
      assert.equal(statSync(join(configDir, f)).mode & 0o777, 0o600, f);
      assert.ok(!readFileSync(join(configDir, f), 'utf8').includes(sp.secret), `${f} holds the client secret in plaintext`);
    }
    const token = (await run('account', 'get-access-token')).json().accessToken as string;
    assert.equal(decodeJwt(token).oid, sp.servicePrincipalId);
    assert.equal(aud(token), `${publicUrl}/`);
  });

  it('checks --tenant through discovery and uses the tenant id the issuer names', async () => {
    const bad = await run('login', '--server', url, '--ca-file', caFile, '--tenant', 'contoso', '-u', USER, '-p', PASSWORD);
    assert.equal(bad.code, 1);
    oneErrorLine(bad.stderr, /^ERROR: AADSTS90002: Tenant 'contoso' not found\.\n$/);
    assert.deepEqual(stateFiles(), []);
    const good = await run('login', '--server', url, '--ca-file', caFile, '--tenant', TENANT.toUpperCase(), '-u', USER, '-p', PASSWORD);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.json()[0].tenantId, TENANT);
  });

  it('prints the first sentence of an Entra error and stores nothing', async () => {
    const r = await run('login', '--server', url, '--ca-file', caFile, '-u', 'nobody-here', '-p', 'wrong password, long enough');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ERROR: AADSTS50126: Error validating credentials due to invalid username or password.\n');
    assert.deepEqual(stateFiles(), []);
    const badSecret = await run('login', '--server', url, '--ca-file', caFile, '--service-principal', '-u', sp.appId, '-p', 'not-the-secret');
    assert.equal(badSecret.code, 1);
    oneErrorLine(badSecret.stderr, /^ERROR: AADSTS7000215: /);
  });

  it('reads the password from @FILE as az does', async () => {
    const file = join(dir, 'pw.txt');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    assert.equal((await run('login', '--server', url, '--ca-file', caFile, '-u', USER, '-p', `@${file}`)).code, 0);
  });

  it('refuses an untrusted server certificate with a hint, not a stack', async () => {
    // A second real server, on a CA of its own that this process does not trust.
    const other = tempHome();
    const untrusted = await startServerProcess({ home: other.home, testCa: false });
    try {
      const r = await run('login', '--server', untrusted.url, '-u', USER, '-p', PASSWORD);
      assert.equal(r.code, 1);
      oneErrorLine(r.stderr, /not trusted .*--ca-file/);
      // Its own CA file is the cure.
      const password = readFileSync(join(other.home, 'admin-password'), 'utf8').trim();
      const ok = await run('login', '--server', untrusted.url, '--ca-file', join(other.home, 'tls/ca.pem'), '-u', USER, '-p', password);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await untrusted.stop();
      other.remove();
    }
  });

  it('reuses the last server and CA when --server is left out', async () => {
    assert.equal((await loginUser()).code, 0);
    const again = await run('login', '-u', USER, '-p', PASSWORD);
    assert.equal(again.code, 0, again.stderr);
  });

  for (const [label, args, pattern] of [
    ['no server on first login', ['login', '-u', USER, '-p', 'x'], /--server URL is required/],
    ['no password', ['login', '--server', 'https://127.0.0.1:1', '-u', USER], /--username NAME --password PASSWORD/],
    ['no username for a service principal', ['login', '--server', 'https://127.0.0.1:1', '--service-principal', '-p', 'x'], /--service-principal --username APPID --password SECRET/],
    ['a plain-HTTP server', ['login', '--server', 'http://127.0.0.1:1', '-u', USER, '-p', 'x'], /https:\/\//],
    ['a server URL with a query', ['login', '--server', 'https://h/?a=b', '-u', USER, '-p', 'x'], /query/],
    ['an unreadable @file', ['login', '--server', 'https://h', '-u', USER, '-p', '@/nonexistent/pw'], /cannot read/],
  ] as const) {
    it(`is a usage error (exit 2): ${label}`, async () => {
      const r = await run(...args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      oneErrorLine(r.stderr, pattern);
      assert.deepEqual(stateFiles(), []);
    });
  }
});

describe('keyhaven logout and account', () => {
  it('asks to log in first, in az’s words', async () => {
    for (const args of [['account', 'show'], ['account', 'get-access-token'], ['ad', 'user', 'list']]) {
      const r = await run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, "ERROR: Please run 'keyhaven login' to setup account.\n");
    }
    const out = await run('logout');
    assert.equal(out.code, 1);
    assert.equal(out.stderr, 'ERROR: There are no active accounts.\n');
  });

  it('shows the account with environmentName, and logout removes the state', async () => {
    await loginUser();
    const show = await run('account', 'show');
    assert.equal(show.code, 0);
    assert.equal(show.json().environmentName, 'Keyhaven');
    assert.equal(show.json().tenantId, TENANT);
    assert.equal((await run('account', 'list')).json()[0].cloudName, 'Keyhaven');
    const out = await run('logout');
    assert.equal(out.code, 0);
    assert.equal(out.stdout, '');
    assert.deepEqual(stateFiles(), []);
  });

  it('get-access-token prints az’s shape, for the management API by default, from the cache', async () => {
    const before = Math.floor(Date.now() / 1000);
    await loginUser();
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 0, r.stderr);
    const token = r.json();
    assert.deepEqual(Object.keys(token), ['accessToken', 'expiresOn', 'expires_on', 'subscription', 'tenant', 'tokenType']);
    const claims = decodeJwt(token.accessToken);
    assert.equal(claims.aud, `${publicUrl}/`);
    assert.match(token.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    // Entra's lifetimes: 60–90 minutes; expires_on is the token's own exp.
    // (the CLI counts from expires_in, as az does, so a second may lie between the two)
    assert.ok(Math.abs(token.expires_on - claims.exp!) <= 2, `${token.expires_on} vs exp ${claims.exp}`);
    assert.ok(token.expires_on >= before + 3600 - 5 && token.expires_on <= before + 5400 + 60, String(token.expires_on - before));
    const local = new Date(token.expires_on * 1000);
    assert.equal(token.expiresOn.slice(11, 19), local.toTimeString().slice(0, 8));
    assert.equal(token.tenant, TENANT);
    assert.equal(token.subscription, subscription.subscriptionId);
    assert.equal(token.tokenType, 'Bearer');
    // Served from the cache: the very token login stored (a new one would have another uti).
    assert.ok((await cachedTokens()).some((c) => c.accessToken === token.accessToken));
  });

  it('maps --resource-type, --scope and Azure aliases to a user’s cached tokens', async () => {
    await loginUser();
    const graphAud = `${publicUrl}/graph/`;
    const mgmtAud = `${publicUrl}/`;
    for (const [args, audience] of [
      [['--resource-type', 'ms-graph'], graphAud],
      [['--scope', `${publicUrl}/graph//.default`], graphAud],
      [['--resource', 'https://graph.microsoft.com'], graphAud],
      [['--resource', 'https://management.azure.com/'], mgmtAud],
      [['--resource', 'https://management.core.windows.net/'], mgmtAud],
    ] as const) {
      const r = await run('account', 'get-access-token', ...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(aud(r.json().accessToken), audience, args.join(' '));
    }
  });

  it('tells a user to log in again when the tokens have expired, or for another resource', async () => {
    await loginUser();
    await editCachedTokens((tokens) => {
      for (const c of tokens) c.expiresOn = Math.floor(Date.now() / 1000) + 10; // within the margin
    });
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 1);
    oneErrorLine(r.stderr, /sign-in of admin expired at .*Z; run 'keyhaven login' again/);
    const list = await run('ad', 'user', 'list');
    assert.equal(list.code, 1);
    oneErrorLine(list.stderr, /run 'keyhaven login' again/);
    await loginUser();
    const other = await run('account', 'get-access-token', '--resource', `api://${sp.appId}`);
    assert.equal(other.code, 1);
    oneErrorLine(other.stderr, /No token for 'api:\/\/.*fetched at login/);
  });

  it('fetches a service principal’s tokens on demand for the resource as given, and caches them', async () => {
    await loginSp();
    const first = await run('account', 'get-access-token', '--resource', 'https://management.azure.com/');
    assert.equal(first.code, 0, first.stderr);
    // The Azure alias is the token's audience, as Entra issues it.
    assert.equal(aud(first.json().accessToken), 'https://management.azure.com/');
    const again = await run('account', 'get-access-token', '--resource', 'https://management.azure.com/');
    assert.equal(again.json().accessToken, first.json().accessToken);
    const app = await run('account', 'get-access-token', '--resource', `api://${sp.appId}`);
    assert.equal(app.code, 0, app.stderr);
    assert.equal(aud(app.json().accessToken), `api://${sp.appId}`);
  });

  for (const [label, args, pattern] of [
    ['--resource with --scope', ['--resource', 'a', '--scope', 'b/.default'], /mutually exclusive/],
    ['a scope without /.default', ['--scope', 'https://x/'], /\/\.default/],
    ['two scopes', ['--scope', 'a/.default', 'b/.default'], /one --scope/],
    ['an unknown --resource-type', ['--resource-type', 'batch'], /batch/],
  ] as const) {
    it(`get-access-token usage error: ${label}`, async () => {
      await loginUser();
      const r = await run('account', 'get-access-token', ...args);
      assert.equal(r.code, 2);
      oneErrorLine(r.stderr, pattern);
    });
  }
});

/** Logs in as the admin. */
async function signedIn(): Promise<void> {
  const r = await loginUser();
  assert.equal(r.code, 0, r.stderr);
}

/** A directory object as the API has it now (the admin's view). */
async function fromApi<T = Record<string, any>>(path: string): Promise<{ status: number; body: T }> {
  return graph<T>(t, adminToken, 'GET', path);
}

describe('keyhaven ad user', () => {
  it('creates a user with az’s body and prints the answer', async () => {
    await signedIn();
    const r = await run('ad', 'user', 'create', '--display-name', 'Alice Liddell', '--user-principal-name', 'alice@keyhaven.local', '--password', 'S3cure-enough-pass');
    assert.equal(r.code, 0, r.stderr);
    const created = r.json();
    assert.equal(created.userPrincipalName, 'alice@keyhaven.local');
    assert.equal(created.displayName, 'Alice Liddell');
    assert.equal(created.accountEnabled, true);
    // What the body said is what the directory holds: mailNickname from the UPN (az), the
    // password set and usable.
    const stored = await fromApi(`/users/${created.id}`);
    assert.equal(stored.body.mailNickname, 'alice');
    assert.ok(!r.stdout.includes('S3cure-enough-pass'));
    await userToken(t, 'alice@keyhaven.local', 'S3cure-enough-pass');
  });

  it('lists with az’s filters, quoting values safely, and follows every page', async () => {
    await signedIn();
    const made = [];
    for (const upn of ['obrien@keyhaven.local', 'obrien2@keyhaven.local']) {
      const r = await run('ad', 'user', 'create', '--display-name', "O'Brien", '--user-principal-name', upn, '--password', 'Quartz-lantern-river-93');
      assert.equal(r.code, 0, r.stderr);
      made.push(r.json().id);
    }
    const r = await run('ad', 'user', 'list', '--display-name', "O'Brien", '--upn', 'obrien@keyhaven.local');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().map((u: { id: string }) => u.id), [made[0]]);
    // A quote cannot end the literal and rewrite the filter.
    const sneaky = await run('ad', 'user', 'list', '--display-name', "x') or (displayName eq 'O''Brien");
    assert.equal(sneaky.code, 0, sneaky.stderr);
    assert.deepEqual(sneaky.json(), []);
    // More users than the server's largest page ($top 999 would be one page; the default is 100).
    for (let i = 0; i < 101; i++) {
      const res = await graph(t, adminToken, 'POST', '/users', {
        accountEnabled: true, displayName: `page user ${i}`, mailNickname: `pageuser${i}`, userPrincipalName: `pageuser${i}@keyhaven.local`,
        passwordProfile: { password: 'Violet-harbour-ember-27', forceChangePasswordNextSignIn: false },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const all = await run('ad', 'user', 'list', '--display-name', 'page user');
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.json().length, 101);
  });

  it('show: a missing user exits 3 with the API’s message', async () => {
    await signedIn();
    const r = await run('ad', 'user', 'show', '--id', 'nobody@keyhaven.local');
    assert.equal(r.code, 3);
    oneErrorLine(r.stderr, /nobody@keyhaven\.local/);
  });

  it('update sends only what was given and prints nothing; nothing given is a usage error', async () => {
    await signedIn();
    const u = (await run('ad', 'user', 'create', '--display-name', 'Upd Ate', '--user-principal-name', 'update@keyhaven.local', '--password', 'Marble-sparrow-delta-41')).json();
    const r = await run('ad', 'user', 'update', '--id', u.id, '--account-enabled', 'false');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const after = (await fromApi(`/users/${u.id}`)).body;
    assert.equal(after.accountEnabled, false);
    assert.equal(after.displayName, 'Upd Ate');
    const none = await run('ad', 'user', 'update', '--id', u.id);
    assert.equal(none.code, 2);
    const bad = await run('ad', 'user', 'update', '--id', u.id, '--account-enabled', 'maybe');
    assert.equal(bad.code, 2);
    oneErrorLine(bad.stderr, /'true', 'false'/);
  });

  it('maps 403 and 400 answers to one line, exit 1', async () => {
    // A user without a directory role may read but not delete.
    await signedIn();
    const made = await run('ad', 'user', 'create', '--display-name', 'Plain User', '--user-principal-name', 'plain@keyhaven.local', '--password', 'Copper-willow-north-66');
    assert.equal(made.code, 0, made.stderr);
    const plain = await run('login', '--server', url, '--ca-file', caFile, '-u', 'plain@keyhaven.local', '-p', 'Copper-willow-north-66');
    assert.equal(plain.code, 0, plain.stderr);
    const denied = await run('ad', 'user', 'delete', '--id', 'admin');
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, 'ERROR: Insufficient privileges to complete the operation.\n');
    await signedIn();
    const weak = await run('ad', 'user', 'create', '--display-name', 'Weak', '--user-principal-name', 'weak@keyhaven.local', '--password', 'short');
    assert.equal(weak.code, 1);
    oneErrorLine(weak.stderr, /at least 12 characters/);
  });

  it('requires the options az requires (exit 2) before sending anything', async () => {
    await signedIn();
    for (const args of [
      ['ad', 'user', 'create', '--display-name', 'A', '--user-principal-name', 'a@keyhaven.local'],
      ['ad', 'user', 'show'],
      ['ad', 'group', 'member', 'add', '--group', 'g'],
      ['ad', 'sp', 'create-for-rbac', '--years', '0'],
      ['ad', 'role', 'assignment', 'create', '--role', 'User Administrator'],
    ]) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^ERROR: [^\n]+\n$/);
    }
    assert.equal((await fromApi('/users/a@keyhaven.local')).status, 404);
  });
});

describe('keyhaven ad group', () => {
  it('resolves --group by exact display name and adds a member by reference', async () => {
    await signedIn();
    const g = (await run('ad', 'group', 'create', '--display-name', 'data-science', '--mail-nickname', 'data-science')).json();
    // A group whose name starts the same must not be taken for it (az's startswith would).
    assert.equal((await run('ad', 'group', 'create', '--display-name', 'data-science-2', '--mail-nickname', 'ds2')).code, 0);
    const u = (await run('ad', 'user', 'create', '--display-name', 'Member', '--user-principal-name', 'member@keyhaven.local', '--password', 'Silver-orchard-kite-52')).json();
    const r = await run('ad', 'group', 'member', 'add', '--group', 'data-science', '--member-id', u.id);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const members = await fromApi<{ value: { id: string }[] }>(`/groups/${g.id}/members`);
    assert.deepEqual(members.body.value.map((m) => m.id), [u.id]);
  });

  it('a group name that matches nothing exits 3; one that matches two exits 1', async () => {
    await signedIn();
    for (const nick of ['twice-a', 'twice-b']) assert.equal((await run('ad', 'group', 'create', '--display-name', 'twice', '--mail-nickname', nick)).code, 0);
    const none = await run('ad', 'group', 'show', '--group', 'nothing');
    assert.equal(none.code, 3);
    oneErrorLine(none.stderr, /Group 'nothing' was not found/);
    const two = await run('ad', 'group', 'show', '--group', 'twice');
    assert.equal(two.code, 1);
    oneErrorLine(two.stderr, /More than one group/);
  });

  it('member check prints {"value": bool} from checkMemberGroups', async () => {
    await signedIn();
    const g = (await run('ad', 'group', 'create', '--display-name', 'checked', '--mail-nickname', 'checked')).json();
    const u = (await run('ad', 'user', 'create', '--display-name', 'Checked', '--user-principal-name', 'checked@keyhaven.local', '--password', 'Amber-falcon-stream-19')).json();
    const no = await run('ad', 'group', 'member', 'check', '--group', g.id.toUpperCase(), '--member-id', u.id);
    assert.equal(no.code, 0, no.stderr);
    assert.deepEqual(no.json(), { value: false });
    assert.equal((await run('ad', 'group', 'member', 'add', '--group', g.id, '--member-id', u.id)).code, 0);
    assert.deepEqual((await run('ad', 'group', 'member', 'check', '--group', g.id.toUpperCase(), '--member-id', u.id)).json(), { value: true });
  });

  it('create is idempotent on display name and mail nickname, as az’s', async () => {
    await signedIn();
    const first = await run('ad', 'group', 'create', '--display-name', 'ds', '--mail-nickname', 'ds');
    assert.equal(first.code, 0, first.stderr);
    const created = first.json();
    assert.equal(created.mailEnabled, false);
    assert.equal(created.securityEnabled, true);
    const r = await run('ad', 'group', 'create', '--display-name', 'ds', '--mail-nickname', 'ds');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'WARNING: A group with the same display name and mail nickname already exists, returning.\n');
    assert.equal(r.json().id, created.id);
    const listed = await fromApi<{ value: unknown[] }>(`/groups?$filter=${encodeURIComponent("displayName eq 'ds'")}`);
    assert.equal(listed.body.value.length, 1);
    // --force skips that check and asks for a second group; Keyhaven keeps mail nicknames
    // unique (a group's nickname is its cn over LDAP), so the server refuses, in one line.
    const forced = await run('ad', 'group', 'create', '--display-name', 'ds', '--mail-nickname', 'ds', '--force');
    assert.equal(forced.code, 1, forced.stderr);
    oneErrorLine(forced.stderr, /^ERROR: Another object with the same value for property mailNickname already exists\.\n$/);
    assert.equal((await fromApi<{ value: unknown[] }>(`/groups?$filter=${encodeURIComponent("displayName eq 'ds'")}`)).body.value.length, 1);
  });
});

describe('keyhaven ad app and sp', () => {
  /** A password that works: a client_credentials grant with it succeeds. */
  async function secretWorks(appId: string, secret: string): Promise<boolean> {
    const res = await fetch(t.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: `${publicUrl}//.default` }),
    });
    return res.status === 200;
  }

  it('sp create-for-rbac prints exactly az’s keys and creates the service principal; again, reuses both and replaces the password', async () => {
    await signedIn();
    const r = await run('ad', 'sp', 'create-for-rbac', '--name', 'trainer');
    assert.equal(r.code, 0, r.stderr);
    const made = r.json();
    assert.deepEqual(Object.keys(made), ['appId', 'displayName', 'password', 'tenant']);
    assert.equal(made.displayName, 'trainer');
    assert.equal(made.tenant, TENANT);
    assert.match(r.stderr, /WARNING: The output includes credentials/);
    assert.equal(await secretWorks(made.appId, made.password), true);
    const sps = await fromApi<{ value: { appId: string; accountEnabled: boolean }[] }>(`/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${made.appId}'`)}`);
    assert.deepEqual(sps.body.value.map((s) => [s.appId, s.accountEnabled]), [[made.appId, true]]);

    const again = await run('ad', 'sp', 'create-for-rbac', '-n', 'trainer');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Found an existing application instance/);
    assert.equal(again.json().appId, made.appId);
    assert.equal(await secretWorks(made.appId, again.json().password), true);
    assert.equal(await secretWorks(made.appId, made.password), false, 'the old password was removed');
  });

  it('credential reset adds a password, then removes the old ones (unless --append), and prints {appId, password, tenant}', async () => {
    await signedIn();
    const made = (await run('ad', 'sp', 'create-for-rbac', '--name', 'resetter')).json();
    const r = await run('ad', 'app', 'credential', 'reset', '--id', made.appId, '--years', '2');
    assert.equal(r.code, 0, r.stderr);
    const reset = r.json();
    assert.deepEqual(Object.keys(reset).sort(), ['appId', 'password', 'tenant']);
    assert.equal(reset.appId, made.appId);
    assert.equal(reset.tenant, TENANT);
    assert.match(r.stderr, /^WARNING: The output includes credentials that you must protect/);
    assert.equal(await secretWorks(made.appId, reset.password), true);
    assert.equal(await secretWorks(made.appId, made.password), false);
    const app = (await fromApi<{ value: { passwordCredentials: { startDateTime: string; endDateTime: string }[] }[] }>(
      `/applications?$filter=${encodeURIComponent(`appId eq '${made.appId}'`)}`,
    )).body.value[0]!;
    assert.equal(app.passwordCredentials.length, 1);
    const [cred] = app.passwordCredentials;
    const years = (Date.parse(cred!.endDateTime) - Date.parse(cred!.startDateTime)) / (365.25 * 86400_000);
    assert.ok(Math.abs(years - 2) < 0.01, String(years));

    const appended = await run('ad', 'app', 'credential', 'reset', '--id', made.appId, '--append');
    assert.equal(appended.code, 0, appended.stderr);
    assert.equal(await secretWorks(made.appId, reset.password), true, '--append keeps the old password');
    assert.equal(await secretWorks(made.appId, appended.json().password), true);
  });

  it('app show takes an appId, api://{appId} or an exact display name; a name that matches nothing exits 3', async () => {
    await signedIn();
    for (const id of [sp.appId, `api://${sp.appId}`, 'cli-client-sp']) {
      const r = await run('ad', 'app', 'show', '--id', id);
      assert.equal(r.code, 0, `${id}: ${r.stderr}`);
      assert.equal(r.json().appId, sp.appId);
    }
    const missing = await run('ad', 'app', 'show', '--id', 'nothing');
    assert.equal(missing.code, 3);
    oneErrorLine(missing.stderr, /Application 'nothing' doesn't exist/);
  });

  it('app list stops at 100 with az’s warning unless --all', async () => {
    await signedIn();
    const before = (await run('ad', 'app', 'list', '--all')).json().length as number;
    for (let i = before; i < 105; i++) {
      const res = await graph(t, adminToken, 'POST', '/applications', { displayName: `listed-app-${i}` });
      assert.equal(res.status, 201);
    }
    const limited = await run('ad', 'app', 'list');
    assert.equal(limited.json().length, 100);
    assert.match(limited.stderr, /WARNING: The result is not complete/);
    const all = await run('ad', 'app', 'list', '--all');
    assert.equal(all.json().length, Math.max(before, 105));
    assert.equal(all.stderr, '');
  });
});

describe('keyhaven ad role assignment', () => {
  it('create resolves the role by name and the assignee by UPN; the assignment takes effect', async () => {
    await signedIn();
    const u = (await run('ad', 'user', 'create', '--display-name', 'Role Holder', '--user-principal-name', 'roles@keyhaven.local', '--password', 'Jade-compass-winter-74')).json();
    const r = await run('ad', 'role', 'assignment', 'create', '--role', 'user administrator', '--assignee', 'roles@keyhaven.local');
    assert.equal(r.code, 0, r.stderr);
    const a = r.json();
    assert.equal(a.principalId, u.id);
    assert.equal(a.directoryScopeId, '/');
    assert.equal(a.roleDefinitionName, 'User Administrator');
    // The holder may now create users.
    assert.equal((await run('login', '--server', url, '--ca-file', caFile, '-u', 'roles@keyhaven.local', '-p', 'Jade-compass-winter-74')).code, 0);
    const made = await run('ad', 'user', 'create', '--display-name', 'By Role', '--user-principal-name', 'byrole@keyhaven.local', '--password', 'Ivory-meadow-signal-35');
    assert.equal(made.code, 0, made.stderr);
  });

  it('an unknown role exits 1 with az’s message; list filters by role', async () => {
    await signedIn();
    const bad = await run('ad', 'role', 'assignment', 'create', '--role', 'Owner', '--assignee', sp.appId);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "ERROR: Role 'Owner' doesn't exist.\n");
    const list = await run('ad', 'role', 'assignment', 'list', '--role', 'Global Administrator', '--query', '[].[principalId, roleDefinitionName]', '-o', 'tsv');
    assert.equal(list.code, 0, list.stderr);
    const adminId = decodeJwt(adminToken).oid;
    assert.equal(list.stdout, `${adminId}\tGlobal Administrator\n`);
  });
});
