// The `keyhaven` CLI against a live server, end to end through its commands only: login as a
// user and as a service principal, tokens for each API, the directory verbs (`ad user|group|
// app|sp|role …`), the output formats and az's exit codes. Each login has its own config dir
// (KEYHAVEN_CONFIG_DIR); the only other thing read is the server's $home/admin-password, and
// the only request made without the CLI seeds more users than a page holds (with a token the
// CLI handed out), which the CLI must then list to the end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

type Result = Awaited<ReturnType<typeof runCli>>;

/** One error line on stderr, nothing on stdout: how every failing command ends. */
function assertOneLineError(r: Result, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, wanted ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^ERROR: [^\n]+\n$/, r.stderr);
  assert.match(r.stderr, pattern);
}

function json<T = Record<string, unknown>>(r: Result): T {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function ok(r: Result): Result {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describe('keyhaven CLI against a live server', () => {
  const { home, remove } = tempHome();
  const configDirs: string[] = [];
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let url: string;
  let adminPassword: string;
  let tenantId: string;
  let adminDir: string;
  const userPassword = 'Amber-trellis-on-the-ridge-58';

  /** A fresh, empty config dir for one login. */
  function newConfigDir(): string {
    const dir = join(mkdtempSync(join(tmpdir(), 'kh-cli-')), 'config');
    configDirs.push(dir);
    return dir;
  }
  const kh = (dir: string, ...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: dir } });

  async function loginUser(dir: string, username: string, password: string): Promise<void> {
    ok(await kh(dir, 'login', '--server', url, '--username', username, '--password', password));
  }

  async function createUser(name: string, password = userPassword): Promise<{ id: string; userPrincipalName: string }> {
    return json(await kh(adminDir, 'ad', 'user', 'create', '--display-name', name, '--user-principal-name', `${name}@keyhaven.local`, '--password', password));
  }

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    url = server.url;
    adminPassword = readFileSync(join(home, 'admin-password'), 'utf8').trim();
    adminDir = newConfigDir();
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    for (const dir of configDirs) rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('login as a user prints the az account list and stores no password; account show and get-access-token', async () => {
    const login = await kh(adminDir, 'login', '--server', url, '--username', 'admin', '--password', adminPassword);
    const accounts = json<Record<string, unknown>[]>(login);
    assert.equal(accounts.length, 1);
    const account = accounts[0]!;
    tenantId = account.tenantId as string;
    assert.match(tenantId, /^[0-9a-f-]{36}$/);
    // The admin is Owner of the default subscription made at bootstrap, so az's list names it.
    assert.match(account.id as string, /^[0-9a-f-]{36}$/);
    assert.notEqual(account.id, tenantId);
    assert.deepEqual(account, {
      cloudName: 'Keyhaven',
      homeTenantId: tenantId,
      id: account.id,
      isDefault: true,
      managedByTenants: [],
      name: 'Keyhaven',
      state: 'Enabled',
      tenantId,
      user: { name: 'admin', type: 'user' },
    });

    // The state: a 0700 directory of 0600 files, none holding the password in any form.
    assert.equal(statSync(adminDir).mode & 0o777, 0o700);
    const files = readdirSync(adminDir);
    assert.ok(files.length >= 1, 'login leaves state');
    for (const f of files) {
      assert.equal(statSync(join(adminDir, f)).mode & 0o777, 0o600, f);
      const text = readFileSync(join(adminDir, f), 'utf8');
      for (const form of [adminPassword, encodeURIComponent(adminPassword), Buffer.from(adminPassword).toString('base64')]) {
        assert.ok(!text.includes(form), `${f} holds the user's password`);
      }
    }

    const show = json(await kh(adminDir, 'account', 'show'));
    assert.equal(show.id, account.id);
    assert.equal(show.tenantId, tenantId);
    assert.equal(show.environmentName, 'Keyhaven');
    assert.deepEqual(show.user, { name: 'admin', type: 'user' });
    const list = json<unknown[]>(await kh(adminDir, 'account', 'list'));
    assert.equal(list.length, 1);

    const cases: [string[], string][] = [
      [[], `${url}/`],
      [['--resource', 'https://management.azure.com/'], `${url}/`],
      [['--scope', 'https://graph.microsoft.com/.default'], `${url}/graph/`],
      [['--resource-type', 'ms-graph'], `${url}/graph/`],
    ];
    for (const [args, audience] of cases) {
      const token = json<{ accessToken: string; expiresOn: string; expires_on: number; subscription: string; tenant: string; tokenType: string }>(
        await kh(adminDir, 'account', 'get-access-token', ...args),
      );
      // az's keys; "subscription" is the account's subscription (a tenant-level account's is the tenant).
      assert.deepEqual(Object.keys(token), ['accessToken', 'expiresOn', 'expires_on', 'subscription', 'tenant', 'tokenType'], args.join(' '));
      assert.equal(token.tenant, tenantId);
      assert.equal(token.subscription, account.id);
      assert.equal(token.tokenType, 'Bearer');
      assert.match(token.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      assert.equal(typeof token.expires_on, 'number');
      const claims = decodeJwt(token.accessToken);
      assert.equal(claims.aud, audience, args.join(' '));
      assert.equal(claims.tid, tenantId);
      assert.equal(claims.idtyp, 'user');
      // The CLI counts expires_in from when the answer came, as MSAL does: within a few seconds of exp.
      assert.ok(Math.abs(claims.exp! - token.expires_on) <= 5, `expires_on ${token.expires_on}, exp ${claims.exp}`);
      assert.ok(token.expires_on > Date.now() / 1000 + 600);
    }
    // Key Vault's token is fetched at login too (keyhaven keyvault secret … needs it).
    const vault = await kh(adminDir, 'account', 'get-access-token', '--resource', 'https://vault.azure.net');
    assert.equal(vault.code, 0, vault.stderr);
    // An audience the login holds no token for is refused in one line.
    assertOneLineError(await kh(adminDir, 'account', 'get-access-token', '--resource', 'https://storage.azure.com'), 1, /No token for 'https:\/\/storage\.azure\.com'/);
  });

  it('ad user create|list|show|update|delete, with the password policy and the output formats', async () => {
    const create = (upn: string, password: string) =>
      kh(adminDir, 'ad', 'user', 'create', '--display-name', 'Alice Liddell', '--user-principal-name', upn, '--password', password);
    assertOneLineError(await create('alice@keyhaven.local', 'Short-1'), 1, /at least 12 characters/);
    assertOneLineError(await create('alice@keyhaven.local', 'Password1234!'), 1, /most common passwords/);

    const alice = json<{ id: string; userPrincipalName: string; displayName: string; accountEnabled: boolean }>(await create('alice@keyhaven.local', userPassword));
    assert.equal(alice.userPrincipalName, 'alice@keyhaven.local');
    assert.equal(alice.displayName, 'Alice Liddell');
    assert.equal(alice.accountEnabled, true);
    assert.ok(!JSON.stringify(alice).includes(userPassword));
    assertOneLineError(await create('alice@keyhaven.local', userPassword), 1, /already exists/);
    await createUser('albert');

    const filtered = json<{ userPrincipalName: string }[]>(await kh(adminDir, 'ad', 'user', 'list', '--filter', "startswith(userPrincipalName,'al')"));
    assert.deepEqual(filtered.map((u) => u.userPrincipalName).sort(), ['albert@keyhaven.local', 'alice@keyhaven.local']);
    const byUpn = json<{ id: string }[]>(await kh(adminDir, 'ad', 'user', 'list', '--upn', 'alice@keyhaven.local'));
    assert.deepEqual(byUpn.map((u) => u.id), [alice.id]);

    const shown = json<{ id: string }>(await kh(adminDir, 'ad', 'user', 'show', '--id', 'alice@keyhaven.local'));
    assert.equal(shown.id, alice.id);
    assert.equal(json<{ userPrincipalName: string }>(await kh(adminDir, 'ad', 'user', 'show', '--id', alice.id)).userPrincipalName, 'alice@keyhaven.local');

    const update = ok(await kh(adminDir, 'ad', 'user', 'update', '--id', 'alice@keyhaven.local', '--account-enabled', 'false'));
    assert.equal(update.stdout, '');
    assert.equal(json<{ accountEnabled: boolean }>(await kh(adminDir, 'ad', 'user', 'show', '--id', alice.id)).accountEnabled, false);
    const disabled = json<{ userPrincipalName: string }[]>(await kh(adminDir, 'ad', 'user', 'list', '--filter', 'accountEnabled eq false'));
    assert.deepEqual(disabled.map((u) => u.userPrincipalName), ['alice@keyhaven.local']);
    // A disabled user cannot log in.
    assertOneLineError(await kh(newConfigDir(), 'login', '--server', url, '-u', 'alice@keyhaven.local', '-p', userPassword), 1, /AADSTS50057/);

    // --output table: az's auto table (a header, a dashed rule, one row per user).
    const table = ok(await kh(adminDir, 'ad', 'user', 'list', '--filter', "startswith(userPrincipalName,'al')", '-o', 'table')).stdout.split('\n');
    assert.match(table[0]!, /DisplayName/);
    assert.match(table[0]!, /UserPrincipalName/);
    assert.match(table[1]!, /^-+( +-+)+$/);
    assert.equal(table.filter((l) => l.includes('@keyhaven.local')).length, 2);
    // --output tsv with --query: one value per line.
    const tsv = ok(await kh(adminDir, 'ad', 'user', 'list', '--filter', "startswith(userPrincipalName,'al')", '--query', '[].userPrincipalName', '-o', 'tsv')).stdout;
    assert.deepEqual(tsv.trim().split('\n').sort(), ['albert@keyhaven.local', 'alice@keyhaven.local']);
    const id = ok(await kh(adminDir, 'ad', 'user', 'show', '--id', 'alice@keyhaven.local', '--query', 'id', '-o', 'tsv')).stdout;
    assert.equal(id, `${alice.id}\n`);
    const picked = json(await kh(adminDir, 'ad', 'user', 'show', '--id', alice.id, '--query', '{upn: userPrincipalName, enabled: accountEnabled}'));
    assert.deepEqual(picked, { upn: 'alice@keyhaven.local', enabled: false });
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'list', '--query', '[?'), 2, /--query/);

    // A new password through update: the policy applies; the old password stops working.
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'update', '--id', 'albert@keyhaven.local', '--password', 'Password1234!'), 1, /most common passwords/);
    const newPassword = 'Cobalt-meadow-under-frost-17';
    ok(await kh(adminDir, 'ad', 'user', 'update', '--id', 'albert@keyhaven.local', '--password', newPassword));
    assertOneLineError(await kh(newConfigDir(), 'login', '--server', url, '-u', 'albert', '-p', userPassword), 1, /^ERROR: AADSTS50126: /);
    await loginUser(newConfigDir(), 'albert@keyhaven.local', newPassword);

    const del = ok(await kh(adminDir, 'ad', 'user', 'delete', '--id', 'alice@keyhaven.local'));
    assert.equal(del.stdout, '');
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'show', '--id', alice.id), 3, /./);
  });

  it('ad group create, nested member add, member list, transitive member check, cycles refused, group delete', async () => {
    const group = async (name: string) =>
      json<{ id: string; displayName: string; securityEnabled: boolean }>(await kh(adminDir, 'ad', 'group', 'create', '--display-name', name, '--mail-nickname', name));
    const outer = await group('data-science');
    const inner = await group('ml-platform');
    assert.equal(outer.displayName, 'data-science');
    assert.equal(outer.securityEnabled, true);
    // az's create is idempotent on (displayName, mailNickname).
    const again = await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'data-science', '--mail-nickname', 'data-science');
    assert.equal(json<{ id: string }>(again).id, outer.id);
    assert.match(again.stderr, /^WARNING: A group with the same display name/);

    const bob = await createUser('bob');
    const eve = await createUser('eve');
    // A group in a group (by display name and by id), a user in the inner group.
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '--group', 'data-science', '--member-id', inner.id));
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', inner.id, '--member-id', bob.id));
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', inner.id, '--member-id', bob.id), 1, /already exist/);

    const members = json<{ id: string; '@odata.type': string }[]>(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', 'data-science'));
    assert.deepEqual(members.map((m) => [m.id, m['@odata.type']]), [[inner.id, '#microsoft.graph.group']]);
    const innerMembers = json<{ id: string }[]>(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', 'ml-platform'));
    assert.deepEqual(innerMembers.map((m) => m.id), [bob.id]);

    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'data-science', '--member-id', bob.id)), { value: true });
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'ml-platform', '--member-id', bob.id)), { value: true });
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'data-science', '--member-id', eve.id)), { value: false });
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'ml-platform', '--member-id', outer.id)), { value: false });

    // The outer group into the inner one would close a cycle; so would a group in itself.
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'ml-platform', '--member-id', outer.id), 1, /circular/);
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'ml-platform', '--member-id', inner.id), 1, /./);

    const listed = json<{ displayName: string }[]>(await kh(adminDir, 'ad', 'group', 'list', '--display-name', 'ml-'));
    assert.deepEqual(listed.map((g) => g.displayName), ['ml-platform']);
    assert.equal(json<{ id: string }>(await kh(adminDir, 'ad', 'group', 'show', '-g', 'ml-platform')).id, inner.id);

    ok(await kh(adminDir, 'ad', 'group', 'member', 'remove', '-g', 'ml-platform', '--member-id', bob.id));
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'data-science', '--member-id', bob.id)), { value: false });

    const del = ok(await kh(adminDir, 'ad', 'group', 'delete', '-g', 'ml-platform'));
    assert.equal(del.stdout, '');
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'show', '-g', inner.id), 3, /./);
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'show', '-g', 'ml-platform'), 3, /Group 'ml-platform' was not found/);
    assert.deepEqual(json<unknown[]>(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', 'data-science')), []);
  });

  it('ad group member add|check|remove take a UPN, a login name or a display name; member list -o table shows object ids', async () => {
    const team = json<{ id: string }>(await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'member-names', '--mail-nickname', 'member-names'));
    const sub = json<{ id: string }>(await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'member-names-sub', '--mail-nickname', 'member-names-sub'));
    const ada = await createUser('ada');
    const grace = await createUser('grace');
    const sp = json<{ appId: string }>(await kh(adminDir, 'ad', 'sp', 'create-for-rbac', '--name', 'member-names-app'));
    const spId = json<{ id: string }[]>(await kh(adminDir, 'ad', 'sp', 'list', '--display-name', 'member-names-app'))[0]!.id;
    // A userPrincipalName (the error was about @odata.id before), a login name, a group's and a
    // service principal's display name.
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', ada.userPrincipalName));
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'grace'));
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'member-names-sub'));
    ok(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'member-names-app'));
    const members = json<{ id: string }[]>(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', team.id));
    assert.deepEqual(members.map((m) => m.id).sort(), [ada.id, grace.id, sub.id, spId].sort());
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'member-names', '--member-id', 'ADA@keyhaven.local')), { value: true });

    // The table names each member's object id, which --member-id and the API take.
    const table = ok(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', 'member-names', '-o', 'table')).stdout.split('\n');
    assert.match(table[0]!, /^DisplayName +ObjectType +UserPrincipalName +ObjectId$/);
    assert.match(table[1]!, /^-+( +-+)+$/);
    const row = (id: string) => table.find((l) => l.endsWith(id));
    assert.match(row(ada.id) ?? '', /^ada +user +ada@keyhaven\.local +[0-9a-f-]{36}$/);
    assert.match(row(sub.id) ?? '', /^member-names-sub +group +[0-9a-f-]{36}$/);
    assert.match(row(spId) ?? '', new RegExp(`^member-names-app +servicePrincipal +${sp.appId} +${spId}$`));
    // Other tables keep the global rule: no id column.
    const groups = ok(await kh(adminDir, 'ad', 'group', 'list', '--display-name', 'member-names', '-o', 'table')).stdout;
    assert.ok(!groups.includes(team.id), groups);

    ok(await kh(adminDir, 'ad', 'group', 'member', 'remove', '-g', 'member-names', '--member-id', 'grace@keyhaven.local'));
    assert.deepEqual(json(await kh(adminDir, 'ad', 'group', 'member', 'check', '-g', 'member-names', '--member-id', grace.id)), { value: false });
    // Nothing by that name: exit 3 with a message that names what was looked for; a name that
    // fits a user and a group at once is refused rather than guessed.
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'nobody@keyhaven.local'), 3,
      /Cannot find a user with the userPrincipalName 'nobody@keyhaven.local'/);
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'no-such-name'), 3,
      /Cannot find a user, group or service principal named 'no-such-name'/);
    json(await kh(adminDir, 'ad', 'group', 'create', '--display-name', 'grace', '--mail-nickname', 'grace-group'));
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'member-names', '--member-id', 'grace'), 1, /names more than one directory object/);
    assert.deepEqual(json<{ id: string }[]>(await kh(adminDir, 'ad', 'group', 'member', 'list', '-g', team.id)).length, 3);
  });

  it('ad sp create-for-rbac, then logout and login as the service principal; credential reset', async () => {
    const dir = newConfigDir();
    await loginUser(dir, 'admin', adminPassword);
    const rbac = await kh(dir, 'ad', 'sp', 'create-for-rbac', '--name', 'ci-pipeline');
    const sp = json<{ appId: string; displayName: string; password: string; tenant: string }>(rbac);
    assert.deepEqual(Object.keys(sp).sort(), ['appId', 'displayName', 'password', 'tenant']);
    assert.equal(sp.displayName, 'ci-pipeline');
    assert.equal(sp.tenant, tenantId);
    assert.match(sp.appId, /^[0-9a-f-]{36}$/);
    assert.match(rbac.stderr, /^WARNING: The output includes credentials that you must protect/);

    const logout = ok(await kh(dir, 'logout'));
    assert.equal(logout.stdout, '');
    assert.deepEqual(readdirSync(dir), []);
    assertOneLineError(await kh(dir, 'account', 'show'), 1, /Please run 'keyhaven login'/);
    assertOneLineError(await kh(dir, 'logout'), 1, /There are no active accounts/);

    const login = json<{ user: unknown; tenantId: string }[]>(
      await kh(dir, 'login', '--service-principal', '-u', sp.appId, '-p', sp.password, '--tenant', tenantId, '--server', url),
    );
    assert.deepEqual(login[0]!.user, { name: sp.appId, type: 'servicePrincipal' });
    assert.equal(login[0]!.tenantId, tenantId);
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);

    for (const [args, audience] of [
      [[], `${url}/`],
      [['--scope', 'https://graph.microsoft.com/.default'], 'https://graph.microsoft.com'],
      [['--resource', 'https://management.azure.com/'], 'https://management.azure.com/'],
    ] as [string[], string][]) {
      const token = json<{ accessToken: string; tenant: string; tokenType: string }>(await kh(dir, 'account', 'get-access-token', ...args));
      const claims = decodeJwt(token.accessToken);
      assert.equal(claims.aud, audience, args.join(' '));
      assert.equal(claims.tid, tenantId);
      assert.equal(claims.idtyp, 'app');
      assert.equal(claims.azp, sp.appId);
      assert.equal(token.tenant, tenantId);
    }

    // A wrong secret: one line with Entra's code; the login that was there is kept.
    const wrong = await kh(newConfigDir(), 'login', '--service-principal', '-u', sp.appId, '-p', `${sp.password}x`, '--tenant', tenantId, '--server', url);
    assertOneLineError(wrong, 1, /^ERROR: AADSTS7000215: /);
    assert.ok(!wrong.stderr.includes(sp.password));

    // A new password replaces the old one.
    const reset = await kh(adminDir, 'ad', 'app', 'credential', 'reset', '--id', sp.appId);
    const fresh = json<{ appId: string; password: string; tenant: string }>(reset);
    assert.equal(fresh.appId, sp.appId);
    assert.equal(fresh.tenant, tenantId);
    assert.notEqual(fresh.password, sp.password);
    assert.match(reset.stderr, /^WARNING: The output includes credentials/);
    const relogin = await kh(dir, 'login', '--service-principal', '-u', sp.appId, '-p', fresh.password, '--tenant', tenantId, '--server', url);
    ok(relogin);
    assert.equal(decodeJwt(json<{ accessToken: string }>(await kh(dir, 'account', 'get-access-token')).accessToken).idtyp, 'app');
    assertOneLineError(
      await kh(newConfigDir(), 'login', '--service-principal', '-u', sp.appId, '-p', sp.password, '--tenant', tenantId, '--server', url),
      1,
      /^ERROR: AADSTS7000215: /,
    );

    // create-for-rbac again with the same name: the same application, a new password.
    const second = json<{ appId: string; password: string }>(await kh(adminDir, 'ad', 'sp', 'create-for-rbac', '--name', 'ci-pipeline'));
    assert.equal(second.appId, sp.appId);
    assertOneLineError(
      await kh(newConfigDir(), 'login', '--service-principal', '-u', sp.appId, '-p', fresh.password, '--tenant', tenantId, '--server', url),
      1,
      /^ERROR: AADSTS7000215: /,
    );
    ok(await kh(newConfigDir(), 'login', '--service-principal', '-u', sp.appId, '-p', second.password, '--tenant', tenantId, '--server', url));
    const apps = json<{ appId: string }[]>(await kh(adminDir, 'ad', 'app', 'list', '--display-name', 'ci-pipeline'));
    assert.deepEqual(apps.map((a) => a.appId), [sp.appId]);
  });

  it('ad role assignment create lets a user create users; list; delete takes it back', async () => {
    const carol = await createUser('carol');
    const carolDir = newConfigDir();
    await loginUser(carolDir, 'carol@keyhaven.local', userPassword);
    const attempt = (name: string) =>
      kh(carolDir, 'ad', 'user', 'create', '--display-name', name, '--user-principal-name', `${name}@keyhaven.local`, '--password', userPassword);
    // Reading is every member's right; writing is not.
    assert.equal(json<unknown[]>(await kh(carolDir, 'ad', 'user', 'list', '--upn', 'bob@keyhaven.local')).length, 1);
    assertOneLineError(await attempt('dave'), 1, /^ERROR: Insufficient privileges to complete the operation\.\n$/);
    assertOneLineError(
      await kh(carolDir, 'ad', 'role', 'assignment', 'create', '--role', 'User Administrator', '--assignee', 'carol@keyhaven.local'),
      1,
      /Insufficient privileges/,
    );

    const assignment = json<{ id: string; principalId: string; roleDefinitionName: string; directoryScopeId: string }>(
      await kh(adminDir, 'ad', 'role', 'assignment', 'create', '--role', 'User Administrator', '--assignee', 'carol@keyhaven.local'),
    );
    assert.equal(assignment.principalId, carol.id);
    assert.equal(assignment.roleDefinitionName, 'User Administrator');
    assert.equal(assignment.directoryScopeId, '/');

    const dave = json<{ userPrincipalName: string }>(await attempt('dave'));
    assert.equal(dave.userPrincipalName, 'dave@keyhaven.local');
    ok(await kh(carolDir, 'ad', 'user', 'update', '--id', 'dave@keyhaven.local', '--display-name', 'Dave'));
    // A User Administrator manages no administrator and grants no role, herself included.
    assertOneLineError(await kh(carolDir, 'ad', 'user', 'update', '--id', 'admin@keyhaven.local', '--password', 'Hijacked-password-4242'), 1, /^ERROR: Insufficient privileges/);
    assertOneLineError(await kh(carolDir, 'ad', 'user', 'update', '--id', 'admin@keyhaven.local', '--account-enabled', 'false'), 1, /^ERROR: Insufficient privileges/);
    assertOneLineError(
      await kh(carolDir, 'ad', 'role', 'assignment', 'create', '--role', 'Global Administrator', '--assignee', 'carol@keyhaven.local'),
      1,
      /^ERROR: Insufficient privileges/,
    );

    const listed = json<{ id: string; roleDefinitionName: string }[]>(await kh(adminDir, 'ad', 'role', 'assignment', 'list', '--assignee', 'carol@keyhaven.local'));
    assert.deepEqual(listed.map((a) => [a.id, a.roleDefinitionName]), [[assignment.id, 'User Administrator']]);
    const byRole = json<{ principalId: string }[]>(await kh(adminDir, 'ad', 'role', 'assignment', 'list', '--role', 'User Administrator'));
    assert.deepEqual(byRole.map((a) => a.principalId), [carol.id]);
    const all = json<{ roleDefinitionName: string }[]>(await kh(adminDir, 'ad', 'role', 'assignment', 'list'));
    assert.ok(all.some((a) => a.roleDefinitionName === 'Global Administrator'));

    const del = ok(await kh(adminDir, 'ad', 'role', 'assignment', 'delete', '--id', assignment.id));
    assert.equal(del.stdout, '');
    assert.deepEqual(json(await kh(adminDir, 'ad', 'role', 'assignment', 'list', '--assignee', 'carol@keyhaven.local')), []);
    assertOneLineError(await attempt('erin'), 1, /^ERROR: Insufficient privileges to complete the operation\.\n$/);
    assertOneLineError(await kh(adminDir, 'ad', 'role', 'assignment', 'delete', '--id', assignment.id), 3, /./);
    assertOneLineError(await kh(adminDir, 'ad', 'role', 'assignment', 'create', '--role', 'Chief Wizard', '--assignee', 'carol@keyhaven.local'), 1, /Role 'Chief Wizard' doesn't exist/);
  });

  it('lists longer than a page are followed to the end, also when the CLI names the server by another host', async () => {
    // Logged in at https://127.0.0.1:PORT: the server's links name https://localhost:PORT.
    const dir = newConfigDir();
    ok(await kh(dir, 'login', '--server', `https://127.0.0.1:${server.port}`, '--username', 'admin', '--password', adminPassword));
    // 120 users (more than Graph's page of 100), seeded over the directory API with the token the CLI hands out.
    const { accessToken } = json<{ accessToken: string }>(await kh(dir, 'account', 'get-access-token', '--resource-type', 'ms-graph'));
    const names = Array.from({ length: 120 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map(async (name) => {
        const res = await fetch(`${url}/graph/v1.0/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ accountEnabled: true, displayName: name, mailNickname: name, userPrincipalName: `${name}@keyhaven.local`, passwordProfile: { password: userPassword } }),
        });
        assert.equal(res.status, 201, await res.text());
      }));
    }
    const listed = ok(await kh(dir, 'ad', 'user', 'list', '--filter', "startswith(displayName,'bulk-')", '--query', '[].displayName', '-o', 'tsv')).stdout;
    assert.deepEqual(listed.trim().split('\n').sort(), names);
    const all = json<{ userPrincipalName: string }[]>(await kh(adminDir, 'ad', 'user', 'list'));
    assert.ok(all.length > 120 && all.some((u) => u.userPrincipalName === 'admin@keyhaven.local'), `${all.length} users`);
    // A filter is one query parameter: nothing in it reaches the query string.
    assertOneLineError(await kh(dir, 'ad', 'user', 'list', '--filter', "accountEnabled eq true&$top=1"), 1, /^ERROR: Invalid filter clause/);
  });

  it('exit codes: 3 for what is not there, 2 for a wrong command line, 1 when not logged in', async () => {
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'show', '--id', 'nobody@keyhaven.local'), 3, /nobody@keyhaven\.local/);
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'delete', '--id', 'nobody@keyhaven.local'), 3, /./);
    assertOneLineError(await kh(adminDir, 'ad', 'app', 'show', '--id', 'no-such-app'), 3, /no-such-app/);
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'create', '--display-name', 'x', '--password', userPassword), 2, /--user-principal-name/);
    assertOneLineError(await kh(adminDir, 'ad', 'group', 'member', 'add', '-g', 'data-science'), 2, /--member-id/);
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'update', '--id', 'bob@keyhaven.local'), 2, /usage error/);
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'update', '--id', 'bob@keyhaven.local', '--account-enabled', 'maybe'), 2, /allowed values/);
    assertOneLineError(await kh(adminDir, 'ad', 'user', 'frobnicate'), 2, /unknown command/);
    assertOneLineError(await kh(newConfigDir(), 'login', '--username', 'admin', '--password', 'x'), 2, /--server/);
    assertOneLineError(await kh(newConfigDir(), 'ad', 'user', 'list'), 1, /Please run 'keyhaven login'/);
    // A wrong password for a user is Entra's one line, and the server still serves.
    assertOneLineError(await kh(newConfigDir(), 'login', '--server', url, '-u', 'admin', '-p', 'not-the-password-at-all'), 1, /^ERROR: AADSTS50126: /);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
  });
});
