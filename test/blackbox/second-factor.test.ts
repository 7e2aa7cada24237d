// The second factor against a live server, through the `keyhaven` CLI and the Graph-shaped API
// as clients use them: a user enrols an authenticator app (the otpauth URI, the QR code as SVG
// and in the terminal), confirms it with a code from Debian's oathtool (an independent TOTP
// implementation), and from then on the password grant refuses them as Entra does —
// invalid_grant, AADSTS50076 — to a plain form POST and to @azure/identity's
// UsernamePasswordCredential; requirements by group and by user; removal by an admin; LDAP's
// FreeIPA-style password+code bind (ldapBindSecondFactor: append); the audit trail and the
// database hold neither the secret nor a code.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsernamePasswordCredential } from '@azure/identity';
import { Client, InvalidCredentialsError } from 'ldapts';
import { registerApp, TestBrowser } from '../helpers/browser-signin.js';
import { oathtoolCode, secretOfUri } from '../helpers/oathtool.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, graph, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

type Result = Awaited<ReturnType<typeof runCli>>;

function ok(r: Result): Result {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = <T = Record<string, unknown>>(r: Result): T => JSON.parse(ok(r).stdout) as T;

describe('second factor (TOTP) against a live server', () => {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-mfa-cli-'));
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  const password = 'Granite-orchard-after-rain-37';
  const codesSeen: string[] = [];
  const secretsSeen: string[] = [];
  let dirs = 0;
  const newDir = () => join(work, `config-${++dirs}`);
  const kh = (dir: string, ...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: dir } });
  let adminDir: string;

  /** The password grant as a script sends it (RFC 6749 §4.3), to the v2 endpoint. */
  const passwordGrant = (username: string) =>
    postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username, password, scope: `${t.url}/graph//.default` });

  function assertMfaRequired(res: { status: number; body: Record<string, unknown> }): void {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'invalid_grant');
    assert.deepEqual(res.body.error_codes, [50076]);
    assert.match(String(res.body.error_description), /^AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '[^']+'\. Trace ID: /);
    assert.equal(res.body.access_token, undefined);
  }

  async function createUser(name: string): Promise<string> {
    const created = json<{ id: string }>(await kh(adminDir, 'ad', 'user', 'create', '--display-name', name, '--user-principal-name', `${name}@keyhaven.local`, '--password', password));
    return created.id;
  }

  /** A config dir signed in as `name` (before any second factor is required of them). */
  async function loginAs(name: string): Promise<string> {
    const dir = newDir();
    ok(await kh(dir, 'login', '--server', t.url, '--username', `${name}@keyhaven.local`, '--password', password));
    return dir;
  }

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--ldap-bind-second-factor', 'append'] });
    t = await tenantOf(server);
    adminDir = newDir();
    ok(await kh(adminDir, 'login', '--server', t.url, '--username', 'admin', '--password', t.adminPassword));
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('enrol through the CLI (QR code as SVG), confirm with an oathtool code; then the password grant answers AADSTS50076', async () => {
    await createUser('alice');
    const alice = await loginAs('alice');
    const qrFile = join(work, 'alice-qr.svg');
    const enrolled = json<{ id: string; secretKey: string; otpauthUri: string; state: string }>(await kh(alice, 'ad', 'user', 'mfa', 'enroll', '--qr-file', qrFile));
    assert.equal(enrolled.state, 'pending');
    const uri = new URL(enrolled.otpauthUri);
    assert.equal(`${uri.protocol}//${uri.host}`, 'otpauth://totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Keyhaven:alice@keyhaven.local');
    assert.equal(uri.searchParams.get('secret'), enrolled.secretKey);
    assert.match(enrolled.secretKey, /^[A-Z2-7]{32}$/);
    secretsSeen.push(enrolled.secretKey);
    assert.match(readFileSync(qrFile, 'utf8'), /^<svg[^>]*>/);
    assert.equal(statSync(qrFile).mode & 0o777, 0o600);

    // Not active yet: the password still signs in; a wrong code does not confirm.
    assert.equal((await passwordGrant('alice@keyhaven.local')).status, 200);
    const wrong = await kh(alice, 'ad', 'user', 'mfa', 'confirm', '--method-id', enrolled.id, '--code', '000000' === oathtoolCode(enrolled.secretKey) ? '111111' : '000000');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /verification code is not valid/);

    const code = oathtoolCode(secretOfUri(enrolled.otpauthUri));
    codesSeen.push(code);
    ok(await kh(alice, 'ad', 'user', 'mfa', 'confirm', '--method-id', enrolled.id, '--code', code));
    const shown = json<{ keyhavenMfaRequired: boolean; keyhavenMfaRequiredBy: string; perUserMfaState: string; softwareOathMethods: { id: string; secretKey: unknown; keyhavenState: string }[] }>(await kh(alice, 'ad', 'user', 'mfa', 'show'));
    assert.equal(shown.keyhavenMfaRequired, true);
    assert.equal(shown.keyhavenMfaRequiredBy, 'enrolled');
    assert.equal(shown.perUserMfaState, 'disabled');
    assert.deepEqual(shown.softwareOathMethods.map((m) => [m.id, m.secretKey, m.keyhavenState]), [[enrolled.id, null, 'active']]);

    assertMfaRequired(await passwordGrant('alice@keyhaven.local'));
    // A wrong password is still the wrong-password answer: 50076 is said only after the right one.
    const wrongPassword = await postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'alice@keyhaven.local', password: 'not-the-password', scope: `${t.url}/graph//.default` });
    assert.deepEqual(wrongPassword.body.error_codes, [50126]);

    // MSAL underneath @azure/identity, as an unchanged Azure script would meet it.
    const credential = new UsernamePasswordCredential(t.tenantId, AZURE_CLI_CLIENT_ID, 'alice@keyhaven.local', password, { authorityHost: t.url, disableInstanceDiscovery: true });
    await assert.rejects(credential.getToken(`${t.url}/graph//.default`), (err: Error) => /AADSTS50076/.test(err.message));

    // The browser sign-in page asks for the code after the right password, and issues no code
    // for the password alone (the whole page flow: signin-second-factor.test.ts).
    const adminToken = await userToken(t, 'admin', t.adminPassword);
    const app = await registerApp(t, adminToken, { displayName: 'MFA Notebook', publicClient: { redirectUris: ['http://127.0.0.1/callback'] } });
    const authorize = new URL(`${t.url}/${t.tenantId}/oauth2/v2.0/authorize`);
    for (const [k, v] of Object.entries({ client_id: app.appId, response_type: 'code', redirect_uri: 'http://127.0.0.1:8400/callback', scope: 'openid profile', state: 's1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) authorize.searchParams.set(k, v);
    const browser = new TestBrowser(t.url);
    const page = await browser.request(authorize.href);
    assert.equal(page.status, 200, page.text.slice(0, 500));
    const answer = await browser.submitPassword(page, 'alice@keyhaven.local', password);
    assert.equal(answer.location, undefined, 'no redirect with a code');
    assert.match(answer.text, /id="mfa-prompt"/);
  });

  it('the Graph shapes: authentication/methods lists password and the app, never a secret', async () => {
    const admin = await userToken(t, 'admin', t.adminPassword);
    const res = await graph<{ value: Record<string, unknown>[] }>(t, admin, 'GET', '/users/alice@keyhaven.local/authentication/methods');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.value.map((m) => m['@odata.type']), ['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.softwareOathAuthenticationMethod']);
    assert.equal(res.body.value[1]!.secretKey, null);
    // Another user may not see them.
    await createUser('mallory');
    const mallory = await userToken(t, 'mallory@keyhaven.local', password);
    const denied = await graph(t, mallory, 'GET', '/users/alice@keyhaven.local/authentication/softwareOathMethods');
    assert.equal(denied.status, 403);
    const notAdmin = await graph(t, mallory, 'PATCH', '/me/authentication/requirements', { perUserMfaState: 'enforced' });
    assert.equal(notAdmin.status, 403);
  });

  it('LDAP with ldapBindSecondFactor: append takes the password followed by the current code (FreeIPA)', async () => {
    const dn = 'uid=alice,ou=people,dc=keyhaven,dc=local';
    const secret = secretsSeen[0]!;
    const client = new Client({ url: `ldaps://127.0.0.1:${server.ldapsPort}`, tlsOptions: { ca: readFileSync(TEST_CA_CERT) } });
    try {
      await assert.rejects(client.bind(dn, password), InvalidCredentialsError);
      // The next step's code: the confirming one used this step's.
      const code = oathtoolCode(secret, Date.now() + 30_000);
      codesSeen.push(code);
      await client.bind(dn, `${password}${code}`);
      await client.unbind();
      await assert.rejects(client.bind(dn, `${password}${code}`), InvalidCredentialsError, 'a code binds once');
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('a requirement on a group applies to its nested members; lifting it lets the password in again', async () => {
    await createUser('bob');
    json(await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'secure', '--mail-nickname', 'secure'));
    json(await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'secure-inner', '--mail-nickname', 'secure-inner'));
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '--group', 'secure', '--member-id', json<{ id: string }>(await kh(adminDir, 'ad', 'group', 'show', '--group', 'secure-inner')).id));
    const bobId = json<{ id: string }>(await kh(adminDir, 'ad', 'user', 'show', '--id', 'bob@keyhaven.local')).id;
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '--group', 'secure-inner', '--member-id', bobId));
    assert.equal((await passwordGrant('bob@keyhaven.local')).status, 200);

    ok(await kh(adminDir, 'ad', 'group', 'mfa', 'require', '--group', 'secure', '--state', 'enforced'));
    assert.equal(json<{ perUserMfaState: string }>(await kh(adminDir, 'ad', 'group', 'mfa', 'show', '--group', 'secure')).perUserMfaState, 'enforced');
    assertMfaRequired(await passwordGrant('bob@keyhaven.local'));
    const shown = json<{ keyhavenMfaRequiredBy: string; keyhavenMfaRegistered: boolean }>(await kh(adminDir, 'ad', 'user', 'mfa', 'show', '--id', 'bob@keyhaven.local'));
    assert.equal(shown.keyhavenMfaRequiredBy, 'group');
    assert.equal(shown.keyhavenMfaRegistered, false);

    ok(await kh(adminDir, 'ad', 'group', 'mfa', 'require', '--group', 'secure', '--state', 'disabled'));
    assert.equal((await passwordGrant('bob@keyhaven.local')).status, 200);
  });

  it('a requirement on one user; an admin enrols for a user (QR in the terminal) and removes the factor', async () => {
    await createUser('carol');
    ok(await kh(adminDir, 'ad', 'user', 'mfa', 'require', '--id', 'carol@keyhaven.local', '--state', 'enforced'));
    assertMfaRequired(await passwordGrant('carol@keyhaven.local'));
    const enrol = await kh(adminDir, 'ad', 'user', 'mfa', 'enroll', '--id', 'carol@keyhaven.local');
    const method = json<{ id: string; otpauthUri: string }>(enrol);
    assert.match(enrol.stderr, /[▀▄█]/, 'the QR code is drawn on stderr');
    secretsSeen.push(secretOfUri(method.otpauthUri));
    const code = oathtoolCode(secretOfUri(method.otpauthUri));
    codesSeen.push(code);
    ok(await kh(adminDir, 'ad', 'user', 'mfa', 'confirm', '--id', 'carol@keyhaven.local', '--method-id', method.id, '--code', code));
    ok(await kh(adminDir, 'ad', 'user', 'mfa', 'require', '--id', 'carol@keyhaven.local', '--state', 'disabled'));
    assertMfaRequired(await passwordGrant('carol@keyhaven.local')); // still enrolled
    ok(await kh(adminDir, 'ad', 'user', 'mfa', 'remove', '--id', 'carol@keyhaven.local'));
    assert.equal((await passwordGrant('carol@keyhaven.local')).status, 200);
    // Alice's, removed by an admin through Graph's DELETE.
    const admin = await userToken(t, 'admin', t.adminPassword);
    const list = await graph<{ value: { id: string }[] }>(t, admin, 'GET', '/users/alice@keyhaven.local/authentication/softwareOathMethods');
    const del = await graph(t, admin, 'DELETE', `/users/alice@keyhaven.local/authentication/softwareOathMethods/${list.body.value[0]!.id}`);
    assert.equal(del.status, 204);
    assert.equal((await passwordGrant('alice@keyhaven.local')).status, 200);
  });

  it('the audit trail records enrolment, confirmation, refusals and removal — and neither it nor the database holds a secret or a code', async () => {
    const records = JSON.parse(ok(await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--top', '10000'])).stdout) as { action: string; outcome: string; details: Record<string, unknown> }[];
    const actions = new Set(records.map((r) => `${r.action}:${r.outcome}`));
    for (const expected of ['user.mfa.enroll:success', 'user.mfa.confirm:success', 'user.mfa.confirm:denied', 'user.mfa.remove:success', 'mfa.requirement.set:success', 'mfa.requirement.remove:success']) {
      assert.ok(actions.has(expected), `no ${expected} record`);
    }
    assert.ok(records.some((r) => r.action === 'user.signin' && r.outcome === 'denied' && r.details.error === 'KH_MFA_REQUIRED'));
    const text = JSON.stringify(records);
    const bytes = storage.url.startsWith('sqlite:')
      ? Buffer.concat(['keyhaven.db', 'keyhaven.db-wal'].map((f) => {
          try {
            return readFileSync(join(home, f));
          } catch {
            return Buffer.alloc(0);
          }
        }))
      : execFileSync('pg_dump', ['--data-only', '--no-owner', storage.url], { maxBuffer: 256 * 1024 * 1024 });
    assert.ok(secretsSeen.length >= 2 && codesSeen.length >= 3);
    for (const secret of secretsSeen) {
      assert.ok(!text.includes(secret), 'a TOTP secret is in the audit trail');
      assert.equal(bytes.indexOf(secret), -1, 'a TOTP secret is in the database');
    }
    for (const code of codesSeen) assert.ok(!text.includes(`"${code}"`), 'a code is in the audit trail');
  });
});
