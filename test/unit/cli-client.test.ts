// The client commands (login, account, ad …) run in-process through main() against a fake
// HTTPS server that speaks the token service's and the directory API's shapes. The fake has its
// own CA, so every test also exercises `login --ca-file`. Checked: argument validation (exit 2),
// the requests sent (form fields, JSON bodies, filters, paths), the printed shapes az users
// expect, the login-state files, and errors as one line with az's exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ensureTls } from '../../src/crypto/tls-ca.js';
import { main } from '../../src/cli/main.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const APP_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const APP_SECRET = 'sp-secret-value-0123456789';
const USER = 'admin';
const PASSWORD = 'correct horse battery staple';
const AZ_CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}
type Handler = (r: Recorded) => Reply | Promise<Reply>;

/** Token service + Graph-shaped API, just enough of them; routes can be replaced per test. */
class FakeServer {
  server!: Server;
  url = '';
  publicUrl = '';
  requests: Recorded[] = [];
  routes = new Map<string, Handler>();
  tokenLifetime = 3600;
  issued = 0;

  async start(dir: string): Promise<string> {
    const tls = await ensureTls({ tlsDir: dir, extraNames: [], hostname: 'localhost', vaultDnsSuffix: 'vault.localhost' });
    this.server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        const u = new URL(req.url!, 'https://x');
        const rec: Recorded = { method: req.method!, path: decodeURIComponent(u.pathname), query: u.searchParams, headers: req.headers, body };
        this.requests.push(rec);
        const handler = this.routes.get(`${rec.method} ${rec.path}`) ?? this.fallback(rec);
        const reply = await handler(rec);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as { port: number }).port;
    this.url = `https://127.0.0.1:${port}`;
    // The issuer names the server differently from the URL the CLI is given: audiences must
    // follow the issuer, requests the given URL.
    this.publicUrl = `https://localhost:${port}`;
    return tls.caFile;
  }

  reset(): void {
    this.requests = [];
    this.routes.clear();
    this.tokenLifetime = 3600;
  }

  on(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Requests to the directory API, without the token requests. */
  graphRequests(): Recorded[] {
    return this.requests.filter((r) => r.path.startsWith('/graph/'));
  }

  private fallback(rec: Recorded): Handler {
    if (rec.method === 'GET' && /^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/.test(rec.path)) return (r) => this.discovery(r);
    if (rec.method === 'POST' && rec.path === `/${TENANT}/oauth2/v2.0/token`) return (r) => this.token(r);
    if (rec.path.startsWith('/graph/')) {
      return (r) => {
        if (r.headers.authorization !== undefined && !r.headers.authorization.startsWith(`Bearer at|${this.publicUrl}/graph/|`)) {
          return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } } };
        }
        return { status: 404, body: { error: { code: 'Request_ResourceNotFound', message: `Resource '${r.path.split('/').pop()}' does not exist.` } } };
      };
    }
    return () => ({ status: 404, body: { error: { code: 'KH_NO_SUCH_PATH', message: `no route for ${rec.method} ${rec.path}` } } });
  }

  private discovery(r: Recorded): Reply {
    const tenant = r.path.split('/')[1]!;
    if (tenant !== 'organizations' && tenant !== TENANT) {
      return { status: 400, body: entra('invalid_request', 90002, `Tenant '${tenant}' not found.`) };
    }
    return { body: { issuer: `${this.publicUrl}/${TENANT}/v2.0`, token_endpoint: `${this.publicUrl}/${TENANT}/oauth2/v2.0/token` } };
  }

  private token(r: Recorded): Reply {
    const form = new URLSearchParams(r.body);
    const scope = form.get('scope') ?? '';
    const ok =
      (form.get('grant_type') === 'password' && form.get('client_id') === AZ_CLIENT && form.get('username') === USER && form.get('password') === PASSWORD) ||
      (form.get('grant_type') === 'client_credentials' && form.get('client_id') === APP_ID && form.get('client_secret') === APP_SECRET);
    if (!ok) {
      return { status: 400, body: entra('invalid_grant', 50126, 'Error validating credentials due to invalid username or password.') };
    }
    const resource = scope.slice(0, -'/.default'.length);
    return { body: { token_type: 'Bearer', expires_in: this.tokenLifetime, ext_expires_in: this.tokenLifetime, access_token: `at|${resource}|${++this.issued}` } };
  }
}

function entra(error: string, code: number, text: string) {
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: 0c7f Correlation ID: 1d8e Timestamp: 2026-01-01 00:00:00Z`,
    error_codes: [code],
  };
}

const fake = new FakeServer();
let dir: string;
let caFile: string;
let configDir: string;

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'keyhaven', ...args], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { KEYHAVEN_CONFIG_DIR: configDir },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as any };
}

const loginUser = () => run('login', '--server', fake.url, '--ca-file', caFile, '-u', USER, '-p', PASSWORD);
const loginSp = () => run('login', '--server', fake.url, '--ca-file', caFile, '--service-principal', '-u', APP_ID, '-p', APP_SECRET);

function oneErrorLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^ERROR: [^\n]+\n$/);
  assert.match(stderr, pattern);
}

function stateFiles(): string[] {
  return readdirSync(configDir).filter((f) => !f.startsWith('.'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kh-cli-client-'));
  caFile = await fake.start(join(dir, 'tls'));
});
after(() => {
  fake.server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.reset();
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
        id: TENANT,
        isDefault: true,
        managedByTenants: [],
        name: 'N/A(tenant level account)',
        state: 'Enabled',
        tenantId: TENANT,
        user: { name: USER, type: 'user' },
      },
    ]);
    // Tenant discovery, then one password grant per API, with az's doubled-slash scopes.
    assert.equal(fake.requests[0]!.path, '/organizations/v2.0/.well-known/openid-configuration');
    const grants = fake.requests.filter((q) => q.path.endsWith('/oauth2/v2.0/token')).map((q) => Object.fromEntries(new URLSearchParams(q.body)));
    assert.deepEqual(grants.map((g) => g.scope), [`${fake.publicUrl}//.default`, `${fake.publicUrl}/graph//.default`]);
    for (const g of grants) assert.deepEqual({ ...g, scope: undefined }, { client_id: AZ_CLIENT, grant_type: 'password', username: USER, password: PASSWORD, scope: undefined });
    assert.equal(grants.length, 2);
  });

  it('keeps state in 0600 files and never stores a user’s password', async () => {
    assert.equal((await loginUser()).code, 0);
    assert.deepEqual(stateFiles().sort(), ['profile.json', 'token-cache.json']);
    for (const f of stateFiles()) {
      assert.equal(statSync(join(configDir, f)).mode & 0o777, 0o600, f);
      assert.ok(!readFileSync(join(configDir, f), 'utf8').includes(PASSWORD), `${f} holds the password`);
    }
    assert.equal(statSync(configDir).mode & 0o777, 0o700);
    const profile = JSON.parse(readFileSync(join(configDir, 'profile.json'), 'utf8'));
    assert.equal(profile.server, fake.url);
    assert.equal(profile.publicUrl, fake.publicUrl);
    assert.equal(profile.caFile, caFile);
  });

  it('signs a service principal in with client_credentials and keeps its secret for later tokens', async () => {
    const r = await loginSp();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json()[0].user, { name: APP_ID, type: 'servicePrincipal' });
    const grants = fake.requests.filter((q) => q.path.endsWith('/token')).map((q) => Object.fromEntries(new URLSearchParams(q.body)));
    assert.deepEqual(grants, [{ grant_type: 'client_credentials', client_id: APP_ID, client_secret: APP_SECRET, scope: `${fake.publicUrl}//.default` }]);
    const profile = JSON.parse(readFileSync(join(configDir, 'profile.json'), 'utf8'));
    assert.equal(profile.clientSecret, APP_SECRET);
    assert.equal(statSync(join(configDir, 'profile.json')).mode & 0o777, 0o600);
  });

  it('checks --tenant through discovery and uses the tenant id the issuer names', async () => {
    const bad = await run('login', '--server', fake.url, '--ca-file', caFile, '--tenant', 'contoso', '-u', USER, '-p', PASSWORD);
    assert.equal(bad.code, 1);
    oneErrorLine(bad.stderr, /^ERROR: AADSTS90002: Tenant 'contoso' not found\.\n$/);
    const good = await run('login', '--server', fake.url, '--ca-file', caFile, '--tenant', TENANT, '-u', USER, '-p', PASSWORD);
    assert.equal(good.code, 0, good.stderr);
  });

  it('prints the first sentence of an Entra error and stores nothing', async () => {
    const r = await run('login', '--server', fake.url, '--ca-file', caFile, '-u', USER, '-p', 'wrong password');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ERROR: AADSTS50126: Error validating credentials due to invalid username or password.\n');
    assert.deepEqual(stateFiles(), []);
  });

  it('reads the password from @FILE as az does', async () => {
    const file = join(dir, 'pw.txt');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    assert.equal((await run('login', '--server', fake.url, '--ca-file', caFile, '-u', USER, '-p', `@${file}`)).code, 0);
  });

  it('refuses an untrusted server certificate with a hint, not a stack', async () => {
    const r = await run('login', '--server', fake.url, '-u', USER, '-p', PASSWORD);
    assert.equal(r.code, 1);
    oneErrorLine(r.stderr, /not trusted .*--ca-file/);
  });

  it('reuses the last server and CA when --server is left out', async () => {
    assert.equal((await loginUser()).code, 0);
    const again = await run('login', '-u', USER, '-p', PASSWORD);
    assert.equal(again.code, 0, again.stderr);
  });

  for (const [label, args, pattern] of [
    ['no server on first login', ['login', '-u', USER, '-p', PASSWORD], /--server URL is required/],
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
      assert.equal(fake.requests.length, 0);
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

  it('get-access-token prints az’s shape, for the management API by default', async () => {
    await loginUser();
    const before = Math.floor(Date.now() / 1000);
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 0, r.stderr);
    const t = r.json();
    assert.deepEqual(Object.keys(t), ['accessToken', 'expiresOn', 'expires_on', 'subscription', 'tenant', 'tokenType']);
    assert.match(t.accessToken, new RegExp(`^at\\|${fake.publicUrl}/\\|`));
    assert.match(t.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.ok(Number.isInteger(t.expires_on) && t.expires_on >= before + 3599 && t.expires_on <= before + 3601);
    const local = new Date(t.expires_on * 1000);
    assert.equal(t.expiresOn.slice(11, 19), local.toTimeString().slice(0, 8));
    assert.equal(t.tenant, TENANT);
    assert.equal(t.subscription, TENANT);
    assert.equal(t.tokenType, 'Bearer');
    // Served from the cache: no new token request.
    assert.equal(fake.requests.filter((q) => q.path.endsWith('/token')).length, 2);
  });

  it('maps --resource-type, --scope and Azure aliases to a user’s cached tokens', async () => {
    await loginUser();
    const graph = `at|${fake.publicUrl}/graph/|`;
    const mgmt = `at|${fake.publicUrl}/|`;
    for (const [args, prefix] of [
      [['--resource-type', 'ms-graph'], graph],
      [['--scope', `${fake.publicUrl}/graph//.default`], graph],
      [['--resource', 'https://graph.microsoft.com'], graph],
      [['--resource', 'https://management.azure.com/'], mgmt],
      [['--resource', 'https://management.core.windows.net/'], mgmt],
    ] as const) {
      const r = await run('account', 'get-access-token', ...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.json().accessToken.startsWith(prefix), args.join(' '));
    }
  });

  it('tells a user to log in again when the tokens have expired, or for another resource', async () => {
    await loginUser();
    const cacheFile = join(configDir, 'token-cache.json');
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
    for (const t of cache.tokens) t.expiresOn = Math.floor(Date.now() / 1000) + 10; // within the margin
    writeFileSync(cacheFile, JSON.stringify(cache));
    const r = await run('account', 'get-access-token');
    assert.equal(r.code, 1);
    oneErrorLine(r.stderr, /sign-in of admin expired at .*Z; run 'keyhaven login' again/);
    const list = await run('ad', 'user', 'list');
    assert.equal(list.code, 1);
    oneErrorLine(list.stderr, /run 'keyhaven login' again/);
    assert.equal(fake.graphRequests().length, 0);
    await loginUser();
    const other = await run('account', 'get-access-token', '--resource', `api://${APP_ID}`);
    assert.equal(other.code, 1);
    oneErrorLine(other.stderr, /No token for 'api:\/\/.*fetched at login/);
  });

  it('fetches a service principal’s tokens on demand (sending the resource as given) and caches them', async () => {
    await loginSp();
    const r = await run('account', 'get-access-token', '--resource', 'https://management.azure.com/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json().accessToken, /^at\|https:\/\/management\.azure\.com\/\|/);
    const scopes = () => fake.requests.filter((q) => q.path.endsWith('/token')).map((q) => new URLSearchParams(q.body).get('scope'));
    assert.deepEqual(scopes(), [`${fake.publicUrl}//.default`, 'https://management.azure.com//.default']);
    await run('account', 'get-access-token', '--resource', 'https://management.azure.com/');
    assert.equal(scopes().length, 2);
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

/** Logs in as a user; routes set afterwards answer the ad commands. */
async function signedIn(): Promise<void> {
  const r = await loginUser();
  assert.equal(r.code, 0, r.stderr);
  fake.requests = [];
}

const json = (rec: Recorded) => JSON.parse(rec.body) as Record<string, unknown>;
const GROUP_ID = '99999999-8888-4777-8666-555555555555';
const USER_ID = '12345678-1234-4234-8234-123456789012';

describe('keyhaven ad user', () => {
  it('creates a user with az’s body and prints the answer', async () => {
    await signedIn();
    fake.on('POST', '/graph/v1.0/users', (r) => ({ status: 201, body: { id: USER_ID, ...json(r), passwordProfile: undefined } }));
    const r = await run('ad', 'user', 'create', '--display-name', 'Alice Liddell', '--user-principal-name', 'alice@example.org', '--password', 'S3cure-enough-pass');
    assert.equal(r.code, 0, r.stderr);
    const [req] = fake.graphRequests();
    assert.equal(req!.headers.authorization, `Bearer at|${fake.publicUrl}/graph/|${fake.issued}`);
    assert.equal(req!.headers['content-type'], 'application/json');
    assert.deepEqual(json(req!), {
      accountEnabled: true,
      displayName: 'Alice Liddell',
      mailNickname: 'alice',
      userPrincipalName: 'alice@example.org',
      passwordProfile: { password: 'S3cure-enough-pass', forceChangePasswordNextSignIn: false },
    });
    assert.equal(r.json().id, USER_ID);
  });

  it('lists with az’s filters, quoting values safely, and follows every page', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/users', (r) =>
      r.query.get('$skiptoken') === null
        ? { body: { value: [{ id: '1' }], '@odata.nextLink': `${fake.publicUrl}/graph/v1.0/users?$skiptoken=p2` } }
        : { body: { value: [{ id: '2' }] } },
    );
    const r = await run('ad', 'user', 'list', '--display-name', "O'Brien", '--upn', 'ob@example.org');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json(), [{ id: '1' }, { id: '2' }]);
    const [first, second] = fake.graphRequests();
    assert.equal(first!.query.get('$filter'), "userPrincipalName eq 'ob@example.org' and startswith(displayName,'O''Brien')");
    // The nextLink names the public host; it is followed on the server the CLI was given.
    assert.equal(second!.query.get('$skiptoken'), 'p2');
  });

  it('never follows a nextLink to another origin', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/users', () => ({ body: { value: [], '@odata.nextLink': 'https://evil.example/graph/v1.0/users?$skiptoken=x' } }));
    const r = await run('ad', 'user', 'list');
    assert.equal(r.code, 1);
    oneErrorLine(r.stderr, /refusing to follow @odata\.nextLink/);
    assert.equal(fake.graphRequests().length, 1);
  });

  it('show: a missing user exits 3 with the API’s message', async () => {
    await signedIn();
    const r = await run('ad', 'user', 'show', '--id', 'nobody@example.org');
    assert.equal(r.code, 3);
    assert.equal(r.stderr, "ERROR: Resource 'nobody@example.org' does not exist.\n");
    assert.equal(fake.graphRequests()[0]!.path, '/graph/v1.0/users/nobody@example.org');
  });

  it('update sends only what was given and prints nothing; nothing given is a usage error', async () => {
    await signedIn();
    fake.on('PATCH', `/graph/v1.0/users/${USER_ID}`, () => ({ status: 204 }));
    const r = await run('ad', 'user', 'update', '--id', USER_ID, '--account-enabled', 'false', '--force-change-password-next-sign-in');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(json(fake.graphRequests()[0]!), { accountEnabled: false, passwordProfile: { forceChangePasswordNextSignIn: true } });
    const none = await run('ad', 'user', 'update', '--id', USER_ID);
    assert.equal(none.code, 2);
    const bad = await run('ad', 'user', 'update', '--id', USER_ID, '--account-enabled', 'maybe');
    assert.equal(bad.code, 2);
    oneErrorLine(bad.stderr, /'true', 'false'/);
  });

  it('maps 403 and 400 answers to one line, exit 1', async () => {
    await signedIn();
    fake.on('DELETE', `/graph/v1.0/users/${USER_ID}`, () => ({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
    }));
    const r = await run('ad', 'user', 'delete', '--id', USER_ID);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ERROR: Insufficient privileges to complete the operation.\n');
  });

  it('requires the options az requires (exit 2) before sending anything', async () => {
    await signedIn();
    for (const args of [
      ['ad', 'user', 'create', '--display-name', 'A', '--user-principal-name', 'a@x'],
      ['ad', 'user', 'show'],
      ['ad', 'group', 'member', 'add', '--group', 'g'],
      ['ad', 'sp', 'create-for-rbac', '--years', '0'],
      ['ad', 'role', 'assignment', 'create', '--role', 'User Administrator'],
    ]) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^ERROR: [^\n]+\n$/);
    }
    assert.equal(fake.graphRequests().length, 0);
  });
});

describe('keyhaven ad group', () => {
  it('resolves --group by exact display name and adds a member by reference', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/groups', () => ({ body: { value: [{ id: GROUP_ID, displayName: 'data-science' }] } }));
    fake.on('POST', `/graph/v1.0/groups/${GROUP_ID}/members/$ref`, () => ({ status: 204 }));
    const r = await run('ad', 'group', 'member', 'add', '--group', 'data-science', '--member-id', USER_ID);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const [lookup, add] = fake.graphRequests();
    assert.equal(lookup!.query.get('$filter'), "displayName eq 'data-science'");
    assert.deepEqual(json(add!), { '@odata.id': `${fake.url}/graph/v1.0/directoryObjects/${USER_ID}` });
  });

  it('a group name that matches nothing exits 3; one that matches two exits 1', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/groups', (r) =>
      r.query.get('$filter')!.includes('twice') ? { body: { value: [{ id: 'a' }, { id: 'b' }] } } : { body: { value: [] } },
    );
    const none = await run('ad', 'group', 'show', '--group', 'nothing');
    assert.equal(none.code, 3);
    oneErrorLine(none.stderr, /Group 'nothing' was not found/);
    const two = await run('ad', 'group', 'show', '--group', 'twice');
    assert.equal(two.code, 1);
    oneErrorLine(two.stderr, /More than one group/);
  });

  it('member check prints {"value": bool} from checkMemberGroups', async () => {
    await signedIn();
    let answer: string[] = [GROUP_ID.toUpperCase()];
    fake.on('POST', `/graph/v1.0/directoryObjects/${USER_ID}/checkMemberGroups`, () => ({ body: { value: answer } }));
    const yes = await run('ad', 'group', 'member', 'check', '--group', GROUP_ID, '--member-id', USER_ID);
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(yes.json(), { value: true });
    assert.deepEqual(json(fake.graphRequests()[0]!), { groupIds: [GROUP_ID] });
    answer = [];
    assert.deepEqual((await run('ad', 'group', 'member', 'check', '--group', GROUP_ID, '--member-id', USER_ID)).json(), { value: false });
  });

  it('create is idempotent on display name and mail nickname, as az’s', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/groups', () => ({ body: { value: [{ id: GROUP_ID, displayName: 'ds' }] } }));
    const r = await run('ad', 'group', 'create', '--display-name', 'ds', '--mail-nickname', 'ds');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'WARNING: A group with the same display name and mail nickname already exists, returning.\n');
    assert.equal(r.json().id, GROUP_ID);
    assert.equal(fake.graphRequests().filter((q) => q.method === 'POST').length, 0);
    fake.on('GET', '/graph/v1.0/groups', () => ({ body: { value: [] } }));
    fake.on('POST', '/graph/v1.0/groups', (q) => ({ status: 201, body: { id: 'new', ...json(q) } }));
    const created = await run('ad', 'group', 'create', '--display-name', 'ds', '--mail-nickname', 'ds');
    assert.deepEqual(created.json(), { id: 'new', displayName: 'ds', mailNickname: 'ds', mailEnabled: false, securityEnabled: true });
  });
});

describe('keyhaven ad app and sp', () => {
  const APP_OBJECT = '22222222-3333-4444-8555-666666666666';
  const app = (passwords: string[]) => ({ id: APP_OBJECT, appId: APP_ID, displayName: 'trainer', passwordCredentials: passwords.map((keyId) => ({ keyId })) });

  function appRoutes(existing: boolean, passwords: string[] = ['old-key']) {
    fake.on('GET', '/graph/v1.0/applications', () => ({ body: { value: existing ? [app(passwords)] : [] } }));
    fake.on('GET', `/graph/v1.0/applications/${APP_OBJECT}`, () => ({ body: app(passwords) }));
    fake.on('POST', '/graph/v1.0/applications', () => ({ status: 201, body: app([]) }));
    fake.on('POST', `/graph/v1.0/applications/${APP_OBJECT}/addPassword`, () => ({ body: { keyId: 'new-key', secretText: 'generated-secret' } }));
    fake.on('POST', `/graph/v1.0/applications/${APP_OBJECT}/removePassword`, () => ({ status: 204 }));
  }

  it('credential reset adds a password, then removes the old ones, and prints {appId, password, tenant}', async () => {
    await signedIn();
    appRoutes(true);
    const r = await run('ad', 'app', 'credential', 'reset', '--id', APP_ID, '--years', '2');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json(), { appId: APP_ID, password: 'generated-secret', tenant: TENANT });
    assert.match(r.stderr, /^WARNING: The output includes credentials that you must protect/);
    const calls = fake.graphRequests().map((q) => `${q.method} ${q.path.split('/').pop()}`);
    assert.deepEqual(calls, ['GET applications', `GET ${APP_OBJECT}`, 'POST addPassword', 'POST removePassword']);
    const add = json(fake.graphRequests()[2]!).passwordCredential as Record<string, string>;
    const years = (Date.parse(add.endDateTime!) - Date.parse(add.startDateTime!)) / (365.25 * 86400_000);
    assert.ok(Math.abs(years - 2) < 0.01);
    assert.deepEqual(json(fake.graphRequests()[3]!), { keyId: 'old-key' });
    assert.equal(fake.graphRequests()[0]!.query.get('$filter'), `appId eq '${APP_ID}'`);
  });

  it('credential reset --append keeps the old passwords', async () => {
    await signedIn();
    appRoutes(true);
    assert.equal((await run('ad', 'app', 'credential', 'reset', '--id', APP_ID, '--append')).code, 0);
    assert.ok(!fake.graphRequests().some((q) => q.path.endsWith('/removePassword')));
  });

  it('sp create-for-rbac prints exactly az’s keys and creates the service principal', async () => {
    await signedIn();
    appRoutes(false);
    fake.on('GET', '/graph/v1.0/servicePrincipals', () => ({ body: { value: [] } }));
    fake.on('POST', '/graph/v1.0/servicePrincipals', (q) => ({ status: 201, body: { id: 'sp', ...json(q) } }));
    const r = await run('ad', 'sp', 'create-for-rbac', '--name', 'trainer');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${JSON.stringify({ appId: APP_ID, displayName: 'trainer', password: 'generated-secret', tenant: TENANT }, null, 2)}\n`);
    assert.match(r.stderr, /WARNING: The output includes credentials/);
    const posts = fake.graphRequests().filter((q) => q.method === 'POST');
    assert.deepEqual(json(posts[0]!), { displayName: 'trainer' });
    assert.equal((json(posts[1]!).passwordCredential as Record<string, unknown>).displayName, 'rbac');
    assert.deepEqual(json(posts.at(-1)!), { appId: APP_ID, accountEnabled: true });
  });

  it('sp create-for-rbac with an existing app and SP reuses both and replaces the password', async () => {
    await signedIn();
    appRoutes(true);
    fake.on('GET', '/graph/v1.0/servicePrincipals', () => ({ body: { value: [{ id: 'sp', appId: APP_ID }] } }));
    const r = await run('ad', 'sp', 'create-for-rbac', '-n', 'trainer');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Found an existing application instance/);
    const posts = fake.graphRequests().filter((q) => q.method === 'POST').map((q) => q.path.split('/').pop());
    assert.deepEqual(posts, ['addPassword', 'removePassword']);
  });

  it('app show takes an appId, api://{appId} or an exact display name; a name that matches nothing exits 3', async () => {
    await signedIn();
    appRoutes(true);
    for (const id of [APP_ID, `api://${APP_ID}`, 'trainer']) {
      const r = await run('ad', 'app', 'show', '--id', id);
      assert.equal(r.code, 0, `${id}: ${r.stderr}`);
      assert.equal(r.json().appId, APP_ID);
    }
    const filters = fake.graphRequests().filter((q) => q.path === '/graph/v1.0/applications').map((q) => q.query.get('$filter'));
    assert.deepEqual(filters, [`appId eq '${APP_ID}'`, `appId eq '${APP_ID}'`, "displayName eq 'trainer'"]);
    fake.on('GET', '/graph/v1.0/applications', () => ({ body: { value: [] } }));
    const missing = await run('ad', 'app', 'show', '--id', 'nothing');
    assert.equal(missing.code, 3);
    oneErrorLine(missing.stderr, /Application 'nothing' doesn't exist/);
  });

  it('app list stops at 100 with az’s warning unless --all', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/applications', (q) => {
      const page = Number(q.query.get('$skiptoken') ?? 0);
      const value = Array.from({ length: 60 }, (_, i) => ({ id: `app-${page * 60 + i}` }));
      return { body: page < 2 ? { value, '@odata.nextLink': `${fake.url}/graph/v1.0/applications?$skiptoken=${page + 1}` } : { value } };
    });
    const limited = await run('ad', 'app', 'list');
    assert.equal(limited.json().length, 100);
    assert.match(limited.stderr, /WARNING: The result is not complete/);
    const all = await run('ad', 'app', 'list', '--all');
    assert.equal(all.json().length, 180);
    assert.equal(all.stderr, '');
  });
});

describe('keyhaven ad role assignment', () => {
  const definitions = [
    { id: 'role-ua', displayName: 'User Administrator', templateId: 'role-ua' },
    { id: 'role-ga', displayName: 'Global Administrator', templateId: 'role-ga' },
  ];

  it('create resolves the role by name and the assignee by UPN', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/roleManagement/directory/roleDefinitions', () => ({ body: { value: definitions } }));
    fake.on('GET', '/graph/v1.0/users', () => ({ body: { value: [{ id: USER_ID }] } }));
    fake.on('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', (q) => ({ status: 201, body: { id: 'ra-1', ...json(q) } }));
    const r = await run('ad', 'role', 'assignment', 'create', '--role', 'user administrator', '--assignee', 'alice@example.org');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json(), { id: 'ra-1', roleDefinitionId: 'role-ua', principalId: USER_ID, directoryScopeId: '/', roleDefinitionName: 'User Administrator' });
    assert.equal(fake.graphRequests()[1]!.query.get('$filter'), "userPrincipalName eq 'alice@example.org'");
  });

  it('an unknown role exits 1 with az’s message; list filters by role', async () => {
    await signedIn();
    fake.on('GET', '/graph/v1.0/roleManagement/directory/roleDefinitions', () => ({ body: { value: definitions } }));
    fake.on('GET', '/graph/v1.0/roleManagement/directory/roleAssignments', () => ({ body: { value: [{ id: 'ra-1', roleDefinitionId: 'role-ga', principalId: USER_ID }] } }));
    const bad = await run('ad', 'role', 'assignment', 'create', '--role', 'Owner', '--assignee', USER_ID);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "ERROR: Role 'Owner' doesn't exist.\n");
    const list = await run('ad', 'role', 'assignment', 'list', '--role', 'Global Administrator', '-o', 'tsv');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `ra-1\trole-ga\t${USER_ID}\tGlobal Administrator\n`);
    assert.equal(fake.graphRequests().at(-1)!.query.get('$filter'), "roleDefinitionId eq 'role-ga'");
  });
});
