// Cached logins of the CLI against a live server (commands run in-process through main()):
// `login --service-principal --certificate PEM` (a private_key_jwt assertion per token request,
// as MSAL sends it), several logins side by side in `account list` (JSON and az's table),
// `logout` and `logout --username`, and the files themselves: no token, refresh token or client
// secret in plaintext, every file 0600, the cache key in its own 0600 file, a cache whose key is
// gone refused with a plain "log in again", and the one-login state of the earlier version
// converted to sealed entries when read.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { main } from '../../src/cli/main.js';
import { makeClientCertificate, type ClientCertificate } from '../helpers/client-certificates.js';
import { blackboxStorage, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

const { home, remove } = tempHome();
let storage: { url: string; drop(): Promise<void> };
let server: ServerProcess;
let t: Tenant;
let url: string;
let sp: ServicePrincipalFixture;
let certSp: ServicePrincipalFixture;
let cert: ClientCertificate;
let work: string;
let certFile: string;
let configDir: string;

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

const login = (...args: string[]) => run('login', '--server', url, '--ca-file', TEST_CA_CERT, ...args);
const loginAdmin = () => login('-u', 'admin', '-p', t.adminPassword);
const loginSecret = () => login('--service-principal', '-u', sp.appId, '-p', sp.secret);
const loginCert = () => login('--service-principal', '-u', certSp.appId, '--certificate', certFile);
const stateFiles = () => readdirSync(configDir).filter((f) => !f.startsWith('.')).sort();
const fileText = (f: string) => readFileSync(join(configDir, f), 'utf8');

/** Everything on disk must hide `secrets`; returns the concatenated state for further checks. */
function assertNothingInPlaintext(secrets: string[]): string {
  let all = '';
  for (const f of stateFiles()) {
    assert.equal(statSync(join(configDir, f)).mode & 0o777, 0o600, `${f} is not 0600`);
    const text = fileText(f);
    all += text;
    for (const secret of secrets) assert.ok(!text.includes(secret), `${f} holds a secret in plaintext`);
  }
  assert.equal(statSync(configDir).mode & 0o777, 0o700);
  // No JWT at all (a JWS header starts with eyJ: base64 of '{"').
  assert.doesNotMatch(all, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  return all;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kh-cli-logins-'));
  storage = await blackboxStorage(home);
  server = await startServerProcess({ home, storage: storage.url });
  t = await tenantOf(server);
  url = `https://127.0.0.1:${server.port}`;
  const admin = await userToken(t, 'admin', t.adminPassword);
  sp = await createServicePrincipal(t, admin, 'cli-logins-secret');
  certSp = await createServicePrincipal(t, admin, 'cli-logins-cert');
  cert = makeClientCertificate('cli-logins-cert');
  certFile = join(work, 'sp.pem');
  writeFileSync(certFile, cert.combinedPem, { mode: 0o600 });
  // Registered as an admin does it, with the CLI (Graph addKey underneath).
  configDir = mkdtempSync(join(work, 'admin-'));
  const publicCert = join(work, 'cert.pem');
  writeFileSync(publicCert, cert.certPem);
  assert.equal((await loginAdmin()).code, 0);
  const reset = await run('ad', 'app', 'credential', 'reset', '--id', certSp.appId, '--cert', `@${publicCert}`);
  assert.equal(reset.code, 0, reset.stderr);
});
after(async () => {
  await server?.stop();
  await storage?.drop();
  remove();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  configDir = mkdtempSync(join(work, 'config-'));
});

describe('keyhaven login --service-principal --certificate', () => {
  it('signs in with a client assertion and gets further tokens with new ones; the key stays in its own file', async () => {
    const r = await loginCert();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json()[0].user, { name: certSp.appId, type: 'servicePrincipal' });
    for (const resource of [undefined, 'https://vault.azure.net', `${server.url}/graph/`]) {
      const got = await run('account', 'get-access-token', ...(resource ? ['--resource', resource] : []));
      assert.equal(got.code, 0, got.stderr);
      const claims = decodeJwt(got.json().accessToken);
      assert.equal(claims.oid, certSp.servicePrincipalId);
      assert.equal(claims.azpacr ?? claims.appidacr, '2', 'the server saw a certificate');
    }
    const profile = JSON.parse(fileText('profile.json'));
    assert.equal(profile.logins[0].certificateFile, certFile);
    const keyBody = cert.keyPem.split('\n')[1]!;
    assertNothingInPlaintext([keyBody]);
  });

  it('a certificate the application does not have is refused by the server, and nothing is kept', async () => {
    const other = makeClientCertificate('not-registered');
    const file = join(work, 'other.pem');
    writeFileSync(file, other.combinedPem, { mode: 0o600 });
    const r = await login('--service-principal', '-u', certSp.appId, '--certificate', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR: AADSTS\d+: /);
    assert.deepEqual(stateFiles(), []);
  });

  for (const [label, args, pattern] of [
    ['--certificate without --service-principal', ['-u', 'x', '--certificate', '/nonexistent.pem'], /--certificate is for --service-principal/],
    ['--certificate with --password', ['--service-principal', '-u', 'x', '-p', 'y', '--certificate', '/nonexistent.pem'], /mutually exclusive/],
    ['an unreadable certificate file', ['--service-principal', '-u', 'x', '--certificate', '/nonexistent.pem'], /cannot read the certificate file/],
    ['a PEM with only the certificate', ['--service-principal', '-u', 'x', '--certificate', 'CERT_ONLY'], /private key and the certificate/],
  ] as const) {
    it(`is a usage error (exit 2): ${label}`, async () => {
      const certOnly = join(work, 'cert-only.pem');
      writeFileSync(certOnly, cert.certPem);
      const r = await login(...args.map((a) => (a === 'CERT_ONLY' ? certOnly : a)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.deepEqual(stateFiles(), []);
    });
  }
});

describe('cached logins', () => {
  it('account list shows every cached login; the last login is current', async () => {
    for (const step of [loginAdmin, loginSecret, loginCert]) assert.equal((await step()).code, 0);
    const list = await run('account', 'list');
    assert.equal(list.code, 0, list.stderr);
    const rows = list.json() as { user: { name: string; type: string }; isDefault: boolean; cloudName: string; tenantId: string }[];
    assert.deepEqual(rows.map((r) => r.user), [
      { name: 'admin', type: 'user' },
      { name: sp.appId, type: 'servicePrincipal' },
      { name: certSp.appId, type: 'servicePrincipal' },
    ]);
    assert.deepEqual(rows.map((r) => r.isDefault), [false, false, true]);
    for (const r of rows) {
      assert.deepEqual(Object.keys(r), ['cloudName', 'homeTenantId', 'id', 'isDefault', 'managedByTenants', 'name', 'state', 'tenantId', 'user']);
      assert.equal(r.tenantId, t.tenantId);
    }
    assert.equal((await run('account', 'show')).json().user.name, certSp.appId);

    const table = await run('account', 'list', '--output', 'table');
    assert.equal(table.code, 0, table.stderr);
    const [header, rule, ...lines] = table.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s{2,}/), ['Name', 'CloudName', 'SubscriptionId', 'TenantId', 'State', 'IsDefault', 'User']);
    assert.match(rule!, /^-+( +-+)+$/);
    assert.equal(lines.length, 3);
    assert.match(lines[2]!, new RegExp(`Keyhaven .*${t.tenantId}.*Enabled +True +${certSp.appId}$`));

    // Logging in again as an earlier principal makes that login current, without a duplicate.
    assert.equal((await loginAdmin()).code, 0);
    const again = (await run('account', 'list')).json() as typeof rows;
    assert.equal(again.length, 3);
    assert.deepEqual(again.filter((r) => r.isDefault).map((r) => r.user.name), ['admin']);
  });

  it('keeps tokens and secrets sealed: nothing in plaintext, the key in a 0600 file, sealed entries per login', async () => {
    const tokens: string[] = [];
    assert.equal((await loginAdmin()).code, 0);
    tokens.push((await run('account', 'get-access-token')).json().accessToken);
    assert.equal((await loginSecret()).code, 0);
    tokens.push((await run('account', 'get-access-token', '--resource', 'https://vault.azure.net')).json().accessToken);
    assert.deepEqual(stateFiles(), ['cache-key', 'profile.json', 'token-cache.json']);
    assertNothingInPlaintext([...tokens, sp.secret, t.adminPassword, ...tokens.map((x) => x.split('.')[2]!)]);
    const cache = JSON.parse(fileText('token-cache.json')) as { version: number; entries: Record<string, string> };
    assert.equal(cache.version, 2);
    assert.equal(Object.keys(cache.entries).length, 2);
    for (const sealed of Object.values(cache.entries)) assert.match(sealed, /^khc1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(fileText('cache-key').trim(), 'base64').length, 32);
    const profile = JSON.parse(fileText('profile.json')) as { logins: Record<string, unknown>[] };
    for (const l of profile.logins) assert.deepEqual(Object.keys(l).filter((k) => /secret|token|password/i.test(k)), []);

    // An entry moved onto another login does not open there (bound to its login id).
    const [a, b] = Object.keys(cache.entries);
    writeFileSync(join(configDir, 'token-cache.json'), JSON.stringify({ version: 2, entries: { [a!]: cache.entries[b!], [b!]: cache.entries[a!] } }), { mode: 0o600 });
    const swapped = await run('account', 'get-access-token');
    assert.equal(swapped.code, 1);
    assert.match(swapped.stderr, /^ERROR: The cached sign-in of .* cannot be decrypted .*run 'keyhaven login' again\.\n$/);
  });

  it('a cache whose key file is gone asks for a new login, and a new login works', async () => {
    assert.equal((await loginSecret()).code, 0);
    rmSync(join(configDir, 'cache-key'));
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot be decrypted .*run 'keyhaven login' again/);
    assert.equal((await loginSecret()).code, 0);
    assert.equal((await run('account', 'get-access-token')).code, 0);
  });

  it('logout removes the current login (the previous one becomes current); --username removes that one; the last takes every file', async () => {
    for (const step of [loginAdmin, loginSecret, loginCert]) assert.equal((await step()).code, 0);
    const out = await run('logout');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, '');
    let rows = (await run('account', 'list')).json() as { user: { name: string }; isDefault: boolean }[];
    assert.deepEqual(rows.map((r) => [r.user.name, r.isDefault]), [['admin', false], [sp.appId, true]]);
    const cache = JSON.parse(fileText('token-cache.json')) as { entries: Record<string, string> };
    assert.equal(Object.keys(cache.entries).length, 2, 'its sealed entry is gone too');

    assert.equal((await run('logout', '--username', 'ADMIN')).code, 0);
    rows = (await run('account', 'list')).json();
    assert.deepEqual(rows.map((r) => r.user.name), [sp.appId]);
    const unknown = await run('logout', '--username', 'nobody');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'ERROR: Account nobody is not logged in.\n');

    assert.equal((await run('logout')).code, 0);
    assert.deepEqual(stateFiles(), []);
    assert.equal((await run('account', 'list')).stderr, "ERROR: Please run 'keyhaven login' to setup account.\n");
  });

  it('converts the one-login state of the earlier version (plaintext) into sealed entries', async () => {
    // What the earlier version wrote: one profile with the secret, tokens in plaintext.
    const discovered = (await (await fetch(`${server.url}/organizations/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
    const publicUrl = discovered.issuer.replace(/\/[^/]+\/v2\.0$/, '');
    const old = {
      version: 1,
      server: url,
      publicUrl,
      tenantId: t.tenantId,
      user: { name: sp.appId, type: 'servicePrincipal' },
      clientSecret: sp.secret,
      caFile: TEST_CA_CERT,
      accounts: [{ environmentName: 'Keyhaven', homeTenantId: t.tenantId, id: t.tenantId, isDefault: true, managedByTenants: [], name: 'N/A(tenant level account)', state: 'Enabled', tenantId: t.tenantId, user: { name: sp.appId, type: 'servicePrincipal' } }],
    };
    writeFileSync(join(configDir, 'profile.json'), JSON.stringify(old), { mode: 0o600 });
    writeFileSync(join(configDir, 'token-cache.json'), JSON.stringify({ tokens: [{ resource: 'x', accessToken: 'old-plaintext-token', expiresOn: 1 }] }), { mode: 0o600 });
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decodeJwt(r.json().accessToken).oid, sp.servicePrincipalId);
    assertNothingInPlaintext([sp.secret, 'old-plaintext-token', r.json().accessToken]);
    assert.equal(JSON.parse(fileText('profile.json')).version, 2);
  });
});
