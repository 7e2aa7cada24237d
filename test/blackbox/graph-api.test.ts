// The Graph-shaped directory API against a live server (a child process, real HTTPS verified
// with the test CA, tokens from the real token endpoint): creating users, groups, applications
// and service principals in Graph's shapes; OData filtering, paging with @odata.nextLink and
// $select; nested membership and transitive queries; cycles and duplicate members refused;
// conditional updates. Access control and credentials: graph-access.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser, expectGraphError, startGraphSuite, type Answer, type GraphSuite, type Json } from './graph-test-client.js';

describe('directory API (Graph-shaped)', () => {
  let s: GraphSuite;
  const passwords = { alice: 'Amber-otter-crossing-58', bob: 'Granite-willow-sunrise-34', carol: 'Velvet-compass-orchard-92' };
  const ids: Record<string, string> = {};

  before(async () => {
    s = await startGraphSuite();
    for (const name of ['alice', 'bob', 'carol'] as const) ids[name] = await createUser(s, name, passwords[name]);
  });
  after(async () => {
    await s?.stop();
  });

  it('creates users with Graph shapes: 201, @odata.context, Location, and no credential in the answer', async () => {
    const res = await s.call(s.admin, 'POST', '/users', {
      accountEnabled: true,
      displayName: 'Dana Shape',
      mailNickname: 'dana',
      userPrincipalName: 'dana@example.org',
      passwordProfile: { password: 'Silver-harbor-lantern-26', forceChangePasswordNextSignIn: false },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#users/$entity`);
    assert.equal(res.headers.get('location'), `${s.publicUrl}/graph/v1.0/users/${res.body.id}`);
    assert.equal(res.body.userPrincipalName, 'dana@example.org');
    assert.equal(res.body.mailNickname, 'dana');
    assert.equal(res.body.accountEnabled, true);
    assert.ok(!('passwordProfile' in res.body) && !/Silver-harbor|scrypt/i.test(res.text), 'no password or hash in the answer');
    const byUpn = await s.call(s.admin, 'GET', '/users/dana@example.org');
    assert.equal(byUpn.status, 200);
    assert.equal(byUpn.body.id, res.body.id);
    assert.equal(byUpn.headers.get('etag'), byUpn.body['@odata.etag']);
    const dup = await s.call(s.admin, 'POST', '/users', { displayName: 'Dana Again', userPrincipalName: 'dana@example.org', mailNickname: 'dana2' });
    expectGraphError(dup, 400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.');
  });

  it('creates groups, applications and service principals', async () => {
    const group = await s.call(s.admin, 'POST', '/groups', { displayName: 'Graph Team', mailNickname: 'graph-team', mailEnabled: false, securityEnabled: true });
    assert.equal(group.status, 201, group.text);
    assert.equal(group.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#groups/$entity`);
    assert.equal(group.body.securityEnabled, true);
    const app = await s.call(s.admin, 'POST', '/applications', { displayName: 'graph-test-app' });
    assert.equal(app.status, 201, app.text);
    assert.deepEqual(app.body.identifierUris, [`api://${app.body.appId}`]);
    const sp = await s.call(s.admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    assert.equal(sp.status, 201, sp.text);
    assert.equal(sp.body.appId, app.body.appId);
    assert.equal(sp.body.appOwnerOrganizationId, s.t.tenantId);
    const again = await s.call(s.admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    expectGraphError(again, 400, 'Request_BadRequest', /conflicting object/);
    const fetched = await s.call(s.admin, 'GET', `/servicePrincipals/${sp.body.id}`);
    assert.equal(fetched.body.displayName, 'graph-test-app');
    const removed = await s.call(s.admin, 'DELETE', `/groups/${group.body.id}`);
    assert.equal(removed.status, 204);
    expectGraphError(await s.call(s.admin, 'GET', `/groups/${group.body.id}`), 404, 'Request_ResourceNotFound');
  });

  it('filters with eq, startswith, and, or', async () => {
    const upns = (res: Answer) => (res.body.value as Json[]).map((u) => u.userPrincipalName as string).sort();
    const q = (filter: string) => s.call(s.admin, 'GET', `/users?$filter=${encodeURIComponent(filter)}`);
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
    for (let i = 0; i < 5; i++) await createUser(s, `pager${i}`, `Pager-meadow-river-${40 + i}x`);
    const filter = encodeURIComponent("startswith(mailNickname,'pager')");
    let next: string | undefined = `${s.t.url}/graph/v1.0/users?$filter=${filter}&$top=2&$select=id,mailNickname`;
    const seen: string[] = [];
    let pages = 0;
    while (next !== undefined) {
      const page = await s.call(s.admin, 'GET', next);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#users(id,mailNickname)`);
      assert.ok((page.body.value as Json[]).length <= 2);
      for (const u of page.body.value as Json[]) {
        assert.deepEqual(Object.keys(u).sort(), ['@odata.etag', 'id', 'mailNickname']);
        seen.push(u.mailNickname as string);
      }
      const link = page.body['@odata.nextLink'] as string | undefined;
      if (link !== undefined) {
        // Written under the public URL with the same options; followed here on the address we reach.
        assert.ok(link.startsWith(`${s.publicUrl}/graph/v1.0/users?`), link);
        assert.match(link, /\$top=2/);
        assert.match(link, /\$skiptoken=/);
      }
      next = link?.replace(s.publicUrl, s.t.url);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['pager0', 'pager1', 'pager2', 'pager3', 'pager4']);
  });

  it('projects $select on collections and single objects, and refuses an unknown property', async () => {
    const one = await s.call(s.admin, 'GET', `/users/${ids.alice}?$select=displayName,keyhavenPosix`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#users(displayName,keyhavenPosix)/$entity`);
    assert.deepEqual(Object.keys(one.body).sort(), ['@odata.context', '@odata.etag', 'displayName', 'keyhavenPosix']);
    assert.equal(typeof one.body.keyhavenPosix.uidNumber, 'number');
    const bad = await s.call(s.admin, 'GET', '/users?$select=displayName,passwordHash');
    expectGraphError(bad, 400, 'Request_BadRequest', "Could not find a property named 'passwordHash' on type 'microsoft.graph.user'.");
  });

  it('nests groups and answers members, transitiveMembers, memberOf, transitiveMemberOf and checkMemberGroups', async () => {
    const mk = async (name: string) => (await s.call(s.admin, 'POST', '/groups', { displayName: name, mailNickname: name, mailEnabled: false, securityEnabled: true })).body.id as string;
    const outer = await mk('outer');
    const inner = await mk('inner');
    const other = await mk('other');
    const add = (group: string, member: string) => s.call(s.admin, 'POST', `/groups/${group}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${member}` });
    assert.equal((await add(outer, inner)).status, 204);
    assert.equal((await add(inner, ids.alice!)).status, 204);
    // The server's own URL form is accepted as well.
    const own = await s.call(s.admin, 'POST', `/groups/${outer}/members/$ref`, { '@odata.id': `${s.publicUrl}/graph/v1.0/users/${ids.bob}` });
    assert.equal(own.status, 204, own.text);
    Object.assign(ids, { outer, inner, other });

    const idsOf = (res: Answer) => (res.body.value as Json[]).map((o) => o.id as string).sort();
    const members = await s.call(s.admin, 'GET', `/groups/${outer}/members`);
    assert.equal(members.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#directoryObjects`);
    assert.deepEqual(idsOf(members), [inner, ids.bob!].sort());
    const types = Object.fromEntries((members.body.value as Json[]).map((o) => [o.id, o['@odata.type']]));
    assert.equal(types[inner], '#microsoft.graph.group');
    assert.equal(types[ids.bob!], '#microsoft.graph.user');
    assert.deepEqual(idsOf(await s.call(s.admin, 'GET', `/groups/${outer}/transitiveMembers`)), [inner, ids.alice!, ids.bob!].sort());
    assert.deepEqual(idsOf(await s.call(s.admin, 'GET', `/users/${ids.alice}/memberOf`)), [inner]);
    assert.deepEqual(idsOf(await s.call(s.admin, 'GET', `/users/alice@example.org/transitiveMemberOf`)), [inner, outer].sort());
    assert.deepEqual(idsOf(await s.call(s.admin, 'GET', `/groups/${inner}/memberOf`)), [outer]);
    const check = await s.call(s.admin, 'POST', `/directoryObjects/${ids.alice}/checkMemberGroups`, { groupIds: [outer, other] });
    assert.equal(check.status, 200, check.text);
    assert.deepEqual(check.body.value, [outer]);
    // The signed-in user sees their own groups through /me.
    const aliceToken = await s.token('alice', passwords.alice);
    assert.deepEqual(idsOf(await s.call(aliceToken, 'GET', '/me/transitiveMemberOf')), [inner, outer].sort());
    const object = await s.call(aliceToken, 'GET', `/directoryObjects/${inner}`);
    assert.equal(object.body['@odata.type'], '#microsoft.graph.group');

    const removed = await s.call(s.admin, 'DELETE', `/groups/${outer}/members/${ids.bob}/$ref`);
    assert.equal(removed.status, 204);
    assert.deepEqual(idsOf(await s.call(s.admin, 'GET', `/groups/${outer}/members`)), [inner]);
  });

  it('refuses a membership cycle and a duplicate member with Graph 400s, changing nothing', async () => {
    const cycle = await s.call(s.admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.outer}` });
    expectGraphError(cycle, 400, 'Request_BadRequest', /circular/);
    const self = await s.call(s.admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.inner}` });
    expectGraphError(self, 400, 'Request_BadRequest');
    const dup = await s.call(s.admin, 'POST', `/groups/${ids.inner}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.alice}` });
    expectGraphError(dup, 400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.");
    const members = await s.call(s.admin, 'GET', `/groups/${ids.inner}/members`);
    assert.deepEqual((members.body.value as Json[]).map((m) => m.id), [ids.alice]);
  });

  it('makes a PATCH conditional on If-Match, and deletes a user', async () => {
    const read = await s.call(s.admin, 'GET', '/users/dana@example.org');
    const etag = read.body['@odata.etag'] as string;
    assert.equal((await s.call(s.admin, 'PATCH', '/users/dana@example.org', { givenName: 'Dana' }, { 'if-match': etag })).status, 204);
    expectGraphError(await s.call(s.admin, 'PATCH', '/users/dana@example.org', { givenName: 'Stale' }, { 'if-match': etag }), 412, 'Request_BadRequest');
    assert.equal((await s.call(s.admin, 'GET', '/users/dana@example.org')).body.givenName, 'Dana');
    // OData annotations in a body describe it; they are not properties to set.
    assert.equal((await s.call(s.admin, 'PATCH', '/users/dana@example.org', { '@odata.type': '#microsoft.graph.user', surname: 'Shape' })).status, 204);
    assert.equal((await s.call(s.admin, 'GET', '/users/dana@example.org')).body.surname, 'Shape');
    assert.equal((await s.call(s.admin, 'DELETE', '/users/dana@example.org')).status, 204);
    expectGraphError(await s.call(s.admin, 'GET', '/users/dana@example.org'), 404, 'Request_ResourceNotFound');
  });

  it('answers /organization with the tenant', async () => {
    const org = await s.call(s.admin, 'GET', '/organization');
    assert.equal(org.status, 200);
    assert.equal(org.body.value[0].id, s.t.tenantId);
  });
});
