// The Graph-shaped directory API against a live server (a child process, real HTTPS verified
// with the test CA, tokens from the real token endpoint): creating users, groups, applications
// and service principals; OData filtering, paging with @odata.nextLink, $select; nested
// membership and transitive queries; cycles and duplicate members refused; role-gated writes
// refused with Graph's 403 until a role is assigned; readers never see credentials; disabled
// and deleted principals' tokens refused on the next request; a client secret from
// addPassword working at the token endpoint while the database file holds no copy of it or of
// any password set through the API.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withPgClient } from '../helpers/postgres.js';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

describe('directory API (Graph-shaped)', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  /** The issuer's origin: what the server calls itself (`https://localhost:{port}`). */
  let publicUrl: string;
  let admin: string;
  const passwords = {
    alice: 'Amber-otter-crossing-58',
    bob: 'Granite-willow-sunrise-34',
    carol: 'Velvet-compass-orchard-92',
    aliceNew: 'Northern-kettle-meadow-17',
  };
  const ids: Record<string, string> = {};
  const roles: Record<string, string> = {};

  /** One request to /graph/v1.0 (or an absolute URL under the server), JSON in and out. */
  async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const url = path.startsWith('https://') ? path : `${t.url}/graph/v1.0${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Json) : {} };
  }

  function expectGraphError(answer: Answer, status: number, code: string, message?: string | RegExp): void {
    assert.equal(answer.status, status, answer.text);
    assert.equal(answer.body.error?.code, code, answer.text);
    if (typeof message === 'string') assert.equal(answer.body.error.message, message);
    else if (message) assert.match(answer.body.error.message, message);
    const inner = answer.body.error.innerError as Json;
    assert.match(inner.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.equal(typeof inner['request-id'], 'string');
    assert.equal(typeof inner['client-request-id'], 'string');
  }

  async function createUser(name: string, password: string): Promise<string> {
    const res = await call(admin, 'POST', '/users', {
      accountEnabled: true,
      displayName: `Graph Tester ${name}`,
      mailNickname: name,
      userPrincipalName: `${name}@example.org`,
      passwordProfile: { password, forceChangePasswordNextSignIn: false },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  }

  const graphScope = () => `${publicUrl}/graph//.default`;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    t = await tenantOf(server);
    const discovery = (await (await fetch(`${t.url}/organizations/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
    publicUrl = new URL(discovery.issuer).origin;
    admin = await userToken(t, 'admin', t.adminPassword, graphScope());
    for (const name of ['alice', 'bob', 'carol'] as const) ids[name] = await createUser(name, passwords[name]);
    const definitions = await call(admin, 'GET', '/roleManagement/directory/roleDefinitions');
    for (const d of definitions.body.value as Json[]) roles[d.displayName as string] = d.id as string;
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('creates users with Graph shapes: 201, @odata.context, Location, and no credential in the answer', async () => {
    const res = await call(admin, 'POST', '/users', {
      accountEnabled: true,
      displayName: 'Dana Shape',
      mailNickname: 'dana',
      userPrincipalName: 'dana@example.org',
      passwordProfile: { password: 'Silver-harbor-lantern-26', forceChangePasswordNextSignIn: false },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#users/$entity`);
    assert.equal(res.headers.get('location'), `${publicUrl}/graph/v1.0/users/${res.body.id}`);
    assert.equal(res.body.userPrincipalName, 'dana@example.org');
    assert.equal(res.body.mailNickname, 'dana');
    assert.equal(res.body.accountEnabled, true);
    assert.ok(!('passwordProfile' in res.body) && !/Silver-harbor|scrypt/i.test(res.text), 'no password or hash in the answer');
    const byUpn = await call(admin, 'GET', '/users/dana@example.org');
    assert.equal(byUpn.status, 200);
    assert.equal(byUpn.body.id, res.body.id);
    assert.equal(byUpn.headers.get('etag'), byUpn.body['@odata.etag']);
    const dup = await call(admin, 'POST', '/users', { displayName: 'Dana Again', userPrincipalName: 'dana@example.org', mailNickname: 'dana2' });
    expectGraphError(dup, 400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.');
  });

  it('creates groups, applications and service principals', async () => {
    const group = await call(admin, 'POST', '/groups', { displayName: 'Graph Team', mailNickname: 'graph-team', mailEnabled: false, securityEnabled: true });
    assert.equal(group.status, 201, group.text);
    assert.equal(group.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#groups/$entity`);
    assert.equal(group.body.securityEnabled, true);
    const app = await call(admin, 'POST', '/applications', { displayName: 'graph-test-app' });
    assert.equal(app.status, 201, app.text);
    assert.deepEqual(app.body.identifierUris, [`api://${app.body.appId}`]);
    const sp = await call(admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    assert.equal(sp.status, 201, sp.text);
    assert.equal(sp.body.appId, app.body.appId);
    assert.equal(sp.body.appOwnerOrganizationId, t.tenantId);
    const again = await call(admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    expectGraphError(again, 400, 'Request_BadRequest', /conflicting object/);
    const fetched = await call(admin, 'GET', `/servicePrincipals/${sp.body.id}`);
    assert.equal(fetched.body.displayName, 'graph-test-app');
    const removed = await call(admin, 'DELETE', `/groups/${group.body.id}`);
    assert.equal(removed.status, 204);
    expectGraphError(await call(admin, 'GET', `/groups/${group.body.id}`), 404, 'Request_ResourceNotFound');
  });

  it('filters with eq, startswith, and, or', async () => {
    const upns = (res: Answer) => (res.body.value as Json[]).map((u) => u.userPrincipalName as string).sort();
    const q = (filter: string) => call(admin, 'GET', `/users?$filter=${encodeURIComponent(filter)}`);
    assert.deepEqual(upns(await q("userPrincipalName eq 'alice@example.org'")), ['alice@example.org']);
    assert.deepEqual(upns(await q("startswith(displayName,'Graph Tester')")), ['alice@example.org', 'bob@example.org', 'carol@example.org']);
    assert.deepEqual(upns(await q("startswith(displayName,'Graph Tester') and mailNickname eq 'bob'")), ['bob@example.org']);
    assert.deepEqual(upns(await q("mailNickname eq 'alice' or mailNickname eq 'carol'")), ['alice@example.org', 'carol@example.org']);
    assert.deepEqual(upns(await q("(mailNickname eq 'alice' or mailNickname eq 'bob') and accountEnabled eq true")), ['alice@example.org', 'bob@example.org']);
    // Comparisons ignore case, as Graph's do; a quote is doubled inside a literal.
    assert.deepEqual(upns(await q("userPrincipalName eq 'ALICE@example.org'")), ['alice@example.org']);
    assert.deepEqual(upns(await q("displayName eq 'O''Brien'")), []);
    expectGraphError(await q('displayName eq'), 400, 'Request_BadRequest', /^Invalid filter clause/);
  });

  it('pages with $top and @odata.nextLink until every user is seen exactly once', async () => {
    for (let i = 0; i < 5; i++) await createUser(`pager${i}`, `Pager-meadow-river-${40 + i}x`);
    const filter = encodeURIComponent("startswith(mailNickname,'pager')");
    let next: string | undefined = `${t.url}/graph/v1.0/users?$filter=${filter}&$top=2&$select=id,mailNickname`;
    const seen: string[] = [];
    let pages = 0;
    while (next !== undefined) {
      const page = await call(admin, 'GET', next);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#users(id,mailNickname)`);
      assert.ok((page.body.value as Json[]).length <= 2);
      for (const u of page.body.value as Json[]) {
        assert.deepEqual(Object.keys(u).sort(), ['@odata.etag', 'id', 'mailNickname']);
        seen.push(u.mailNickname as string);
      }
      const link = page.body['@odata.nextLink'] as string | undefined;
      if (link !== undefined) {
        // Written under the public URL with the same options; followed here on the address we reach.
        assert.ok(link.startsWith(`${publicUrl}/graph/v1.0/users?`), link);
        assert.match(link, /\$top=2/);
        assert.match(link, /\$skiptoken=/);
      }
      next = link?.replace(publicUrl, t.url);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['pager0', 'pager1', 'pager2', 'pager3', 'pager4']);
  });

  it('projects $select on collections and single objects, and refuses an unknown property', async () => {
    const one = await call(admin, 'GET', `/users/${ids.alice}?$select=displayName,keyhavenPosix`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#users(displayName,keyhavenPosix)/$entity`);
    assert.deepEqual(Object.keys(one.body).sort(), ['@odata.context', '@odata.etag', 'displayName', 'keyhavenPosix']);
    assert.equal(typeof one.body.keyhavenPosix.uidNumber, 'number');
    const bad = await call(admin, 'GET', '/users?$select=displayName,passwordHash');
    expectGraphError(bad, 400, 'Request_BadRequest', "Could not find a property named 'passwordHash' on type 'microsoft.graph.user'.");
  });

  it('nests groups and answers members, transitiveMembers, memberOf, transitiveMemberOf and checkMemberGroups', async () => {
    const mk = async (name: string) => (await call(admin, 'POST', '/groups', { displayName: name, mailNickname: name, mailEnabled: false, securityEnabled: true })).body.id as string;
    const outer = await mk('outer');
    const inner = await mk('inner');
    const other = await mk('other');
    const add = (group: string, member: string) => call(admin, 'POST', `/groups/${group}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${member}` });
    assert.equal((await add(outer, inner)).status, 204);
    assert.equal((await add(inner, ids.alice!)).status, 204);
    // The server's own URL form is accepted as well.
    const own = await call(admin, 'POST', `/groups/${outer}/members/$ref`, { '@odata.id': `${publicUrl}/graph/v1.0/users/${ids.bob}` });
    assert.equal(own.status, 204, own.text);
    Object.assign(ids, { outer, inner, other });

    const idsOf = (res: Answer) => (res.body.value as Json[]).map((o) => o.id as string).sort();
    const members = await call(admin, 'GET', `/groups/${outer}/members`);
    assert.equal(members.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#directoryObjects`);
    assert.deepEqual(idsOf(members), [inner, ids.bob!].sort());
    const types = Object.fromEntries((members.body.value as Json[]).map((o) => [o.id, o['@odata.type']]));
    assert.equal(types[inner], '#microsoft.graph.group');
    assert.equal(types[ids.bob!], '#microsoft.graph.user');
    assert.deepEqual(idsOf(await call(admin, 'GET', `/groups/${outer}/transitiveMembers`)), [inner, ids.alice!, ids.bob!].sort());
    assert.deepEqual(idsOf(await call(admin, 'GET', `/users/${ids.alice}/memberOf`)), [inner]);
    assert.deepEqual(idsOf(await call(admin, 'GET', `/users/alice@example.org/transitiveMemberOf`)), [inner, outer].sort());
    assert.deepEqual(idsOf(await call(admin, 'GET', `/groups/${inner}/memberOf`)), [outer]);
    const check = await call(admin, 'POST', `/directoryObjects/${ids.alice}/checkMemberGroups`, { groupIds: [outer, other] });
    assert.equal(check.status, 200, check.text);
    assert.deepEqual(check.body.value, [outer]);
    // The signed-in user sees their own groups through /me.
    const aliceToken = await userToken(t, 'alice', passwords.alice, graphScope());
    assert.deepEqual(idsOf(await call(aliceToken, 'GET', '/me/transitiveMemberOf')), [inner, outer].sort());
    const object = await call(aliceToken, 'GET', `/directoryObjects/${inner}`);
    assert.equal(object.body['@odata.type'], '#microsoft.graph.group');

    const removed = await call(admin, 'DELETE', `/groups/${outer}/members/${ids.bob}/$ref`);
    assert.equal(removed.status, 204);
    assert.deepEqual(idsOf(await call(admin, 'GET', `/groups/${outer}/members`)), [inner]);
  });

  it('refuses a membership cycle and a duplicate member with Graph 400s, changing nothing', async () => {
    const cycle = await call(admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.outer}` });
    expectGraphError(cycle, 400, 'Request_BadRequest', /circular/);
    const self = await call(admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.inner}` });
    expectGraphError(self, 400, 'Request_BadRequest');
    const dup = await call(admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.alice}` });
    expectGraphError(dup, 400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.");
    const members = await call(admin, 'GET', `/groups/${ids.inner}/members`);
    assert.deepEqual((members.body.value as Json[]).map((m) => m.id), [ids.alice]);
  });

  it("refuses a normal user's writes with Graph's 403 until User Administrator is assigned, and again once it is removed", async () => {
    const bob = await userToken(t, 'bob', passwords.bob, graphScope());
    const newUser = (n: string) => ({ displayName: `Made by bob ${n}`, userPrincipalName: `bobmade${n}@example.org`, mailNickname: `bobmade${n}` });
    const denied = await call(bob, 'POST', '/users', newUser('1'));
    expectGraphError(denied, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    expectGraphError(await call(bob, 'POST', '/groups', { displayName: 'bobs', mailNickname: 'bobs' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(bob, 'PATCH', `/users/${ids.carol}`, { displayName: 'x' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(bob, 'DELETE', `/users/${ids.carol}`), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await call(bob, 'POST', '/roleManagement/directory/roleAssignments', { roleDefinitionId: roles['User Administrator'], principalId: ids.bob, directoryScopeId: '/' }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await call(bob, 'POST', '/applications', { displayName: 'bobs app' }), 403, 'Authorization_RequestDenied');
    // Nothing was made by the refused requests.
    assert.equal((await call(admin, 'GET', `/users?$filter=${encodeURIComponent("mailNickname eq 'bobmade1'")}`)).body.value.length, 0);

    const assigned = await call(admin, 'POST', '/roleManagement/directory/roleAssignments', {
      roleDefinitionId: roles['User Administrator'],
      principalId: ids.bob,
      directoryScopeId: '/',
    });
    assert.equal(assigned.status, 201, assigned.text);
    assert.equal(assigned.body.principalId, ids.bob);
    const listed = await call(admin, 'GET', `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${ids.bob}'`)}`);
    assert.deepEqual((listed.body.value as Json[]).map((a) => a.id), [assigned.body.id]);
    // The same token: authorization reads the directory's current state, not the token.
    const allowed = await call(bob, 'POST', '/users', newUser('2'));
    assert.equal(allowed.status, 201, allowed.text);
    assert.equal((await call(bob, 'POST', '/groups', { displayName: 'bobs', mailNickname: 'bobs' })).status, 201);
    // User Administrator does not grant application or role writes.
    expectGraphError(await call(bob, 'POST', '/applications', { displayName: 'bobs app' }), 403, 'Authorization_RequestDenied');

    assert.equal((await call(admin, 'DELETE', `/roleManagement/directory/roleAssignments/${assigned.body.id}`)).status, 204);
    expectGraphError(await call(bob, 'POST', '/users', newUser('3')), 403, 'Authorization_RequestDenied');
  });

  it('lets any signed-in user read users and groups, never credentials', async () => {
    const bob = await userToken(t, 'bob', passwords.bob, graphScope());
    const app = await call(admin, 'POST', '/applications', { displayName: 'credential-reader-test' });
    const secret = await call(admin, 'POST', `/applications/${app.body.id}/addPassword`, { passwordCredential: { displayName: 'ci' } });
    assert.equal(secret.status, 200, secret.text);
    const secretText = secret.body.secretText as string;
    assert.ok(secretText.length >= 40);
    assert.match(secret.headers.get('cache-control') ?? '', /no-store/);

    const users = await call(bob, 'GET', '/users?$top=999');
    assert.equal(users.status, 200, users.text);
    assert.ok((users.body.value as Json[]).some((u) => u.id === ids.alice));
    assert.equal((await call(bob, 'GET', '/groups')).status, 200);
    assert.equal((await call(bob, 'GET', `/groups/${ids.inner}/members`)).status, 200);
    const asBob = await call(bob, 'GET', `/applications/${app.body.id}`);
    assert.equal(asBob.status, 200, asBob.text);
    assert.deepEqual(asBob.body.passwordCredentials, []);
    const asAdmin = await call(admin, 'GET', `/applications/${app.body.id}`);
    const [cred] = asAdmin.body.passwordCredentials as Json[];
    assert.equal(cred!.keyId, secret.body.keyId);
    assert.equal(cred!.hint, secretText.slice(0, 3));
    assert.equal(cred!.secretText, null);
    for (const answer of [users, asBob, asAdmin, await call(admin, 'GET', '/applications?$top=999'), await call(admin, 'GET', '/users?$top=999')]) {
      assert.ok(!answer.text.includes(secretText), 'the secret is never read back');
      assert.ok(!/scrypt|password_?hash|secret_?digest/i.test(answer.text), 'no hash or digest in any answer');
      for (const password of Object.values(passwords)) assert.ok(!answer.text.includes(password));
    }
  });

  it("refuses a disabled user's token on the very next request", async () => {
    const carol = await userToken(t, 'carol', passwords.carol, graphScope());
    assert.equal((await call(carol, 'GET', '/me')).status, 200);
    assert.equal((await call(admin, 'PATCH', `/users/${ids.carol}`, { accountEnabled: false })).status, 204);
    const refused = await call(carol, 'GET', '/me');
    expectGraphError(refused, 401, 'InvalidAuthenticationToken');
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer realm="", authorization_uri="${publicUrl}/${t.tenantId}/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
    );
    assert.equal((await call(admin, 'PATCH', `/users/${ids.carol}`, { accountEnabled: true })).status, 204);
    assert.equal((await call(carol, 'GET', '/me')).status, 200);
  });

  it("serves an app-only caller by its role, and refuses a deleted service principal's token at once", async () => {
    const app = await call(admin, 'POST', '/applications', { displayName: 'graph-sp-caller' });
    const sp = await call(admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    const secret = await call(admin, 'POST', `/applications/${app.body.id}/addPassword`, {});
    assert.equal(secret.status, 200, secret.text);
    // Graph's alias audience.
    const issued = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: app.body.appId, client_secret: secret.body.secretText, scope: 'https://graph.microsoft.com/.default' });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const token = issued.body.access_token as string;
    // An app-only caller reads only with a role, and has no /me.
    expectGraphError(await call(token, 'GET', '/users'), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(token, 'GET', '/me'), 400, 'Request_BadRequest', '/me request is only valid with delegated authentication flow.');
    const reader = await call(admin, 'POST', '/roleManagement/directory/roleAssignments', { roleDefinitionId: roles['Directory Readers'], principalId: sp.body.id });
    assert.equal(reader.status, 201, reader.text);
    assert.equal((await call(token, 'GET', '/users')).status, 200);
    assert.equal((await call(admin, 'DELETE', `/servicePrincipals/${sp.body.id}`)).status, 204);
    expectGraphError(await call(token, 'GET', '/users'), 401, 'InvalidAuthenticationToken');
  });

  it('issues a client secret with addPassword that works at the token endpoint, and removePassword revokes it', async () => {
    const app = await call(admin, 'POST', '/applications', { displayName: 'graph-secret-app' });
    await call(admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    const secret = await call(admin, 'POST', `/applications/${app.body.id}/addPassword`, { passwordCredential: { displayName: 'deploy', endDateTime: new Date(Date.now() + 86_400_000).toISOString() } });
    assert.equal(secret.status, 200, secret.text);
    assert.equal(secret.body['@odata.context'], `${publicUrl}/graph/v1.0/$metadata#microsoft.graph.passwordCredential`);
    const form = { grant_type: 'client_credentials', client_id: app.body.appId, client_secret: secret.body.secretText as string, scope: graphScope() };
    assert.equal((await postForm(t.tokenUrl, form)).status, 200);
    ids.secretText = secret.body.secretText as string;
    const removed = await call(admin, 'POST', `/applications/${app.body.id}/removePassword`, { keyId: secret.body.keyId });
    assert.equal(removed.status, 204, removed.text);
    assert.equal((await postForm(t.tokenUrl, form)).status, 401);
  });

  it('changes the signed-in user\'s password through /me/changePassword', async () => {
    const alice = await userToken(t, 'alice', passwords.alice, graphScope());
    const wrong = await call(alice, 'POST', '/me/changePassword', { currentPassword: 'Not-the-right-one-00', newPassword: passwords.aliceNew });
    expectGraphError(wrong, 403, 'Authorization_RequestDenied', 'The current password is incorrect.');
    const weak = await call(alice, 'POST', '/me/changePassword', { currentPassword: passwords.alice, newPassword: 'password1234' });
    expectGraphError(weak, 400, 'Request_BadRequest');
    const changed = await call(alice, 'POST', '/me/changePassword', { currentPassword: passwords.alice, newPassword: passwords.aliceNew });
    assert.equal(changed.status, 204, changed.text);
    await assert.rejects(userToken(t, 'alice', passwords.alice, graphScope()));
    assert.ok(await userToken(t, 'alice', passwords.aliceNew, graphScope()));
  });

  it('makes a PATCH conditional on If-Match, and deletes a user', async () => {
    const read = await call(admin, 'GET', '/users/dana@example.org');
    const etag = read.body['@odata.etag'] as string;
    assert.equal((await call(admin, 'PATCH', '/users/dana@example.org', { givenName: 'Dana' }, { 'if-match': etag })).status, 204);
    expectGraphError(await call(admin, 'PATCH', '/users/dana@example.org', { givenName: 'Stale' }, { 'if-match': etag }), 412, 'Request_BadRequest');
    assert.equal((await call(admin, 'GET', '/users/dana@example.org')).body.givenName, 'Dana');
    assert.equal((await call(admin, 'DELETE', '/users/dana@example.org')).status, 204);
    expectGraphError(await call(admin, 'GET', '/users/dana@example.org'), 404, 'Request_ResourceNotFound');
  });

  it('answers /organization with the tenant', async () => {
    const org = await call(admin, 'GET', '/organization');
    assert.equal(org.status, 200);
    assert.equal(org.body.value[0].id, t.tenantId);
  });

  it('keeps no copy of the client secret or of any password in the database', async () => {
    let bytes: Buffer;
    if (storage.url.startsWith('sqlite:')) {
      // The file and its write-ahead log, byte for byte.
      const files = [join(home, 'keyhaven.db'), join(home, 'keyhaven.db-wal')].filter((f) => existsSync(f));
      assert.ok(files.length > 0);
      bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    } else {
      // Every row of every table, as text.
      bytes = await withPgClient(storage.url, async (c) => {
        const tables = await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        const dumps: string[] = [];
        for (const { table_name: table } of tables.rows) {
          const rows = await c.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replace(/"/g, '""')}" t`);
          dumps.push(...rows.rows.map((r) => r.row));
        }
        return Buffer.from(dumps.join('\n'));
      });
    }
    const secrets = [ids.secretText!, ...Object.values(passwords), t.adminPassword];
    for (const value of secrets) {
      assert.ok(value && value.length >= 12);
      assert.equal(bytes.indexOf(Buffer.from(value, 'utf8')), -1, 'a credential is in the database');
      assert.equal(bytes.indexOf(Buffer.from(value, 'utf16le')), -1);
    }
    // The search would find them: a value known to be stored is there.
    assert.notEqual(bytes.indexOf(Buffer.from('alice@example.org')), -1);
  });
});
