// Access to the Graph-shaped directory API on a live server: writes refused with Graph's 403
// until a directory role is assigned (and again once it is removed), reads open to every
// signed-in user but never showing credentials, an app-only caller served by its role, disabled
// and deleted principals' tokens refused on the very next request, a client secret from
// addPassword working at the token endpoint until removePassword, the user's own password
// change — and the database holding no copy of any secret or password used.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withPgClient } from '../helpers/postgres.js';
import { postForm } from '../helpers/tenant-fixtures.js';
import { createUser, expectGraphError, startGraphSuite, type GraphSuite, type Json } from './graph-test-client.js';

describe('directory API access control and credentials', () => {
  let s: GraphSuite;
  const passwords = {
    alice: 'Amber-otter-crossing-58',
    bob: 'Granite-willow-sunrise-34',
    carol: 'Velvet-compass-orchard-92',
    aliceNew: 'Northern-kettle-meadow-17',
  };
  const ids: Record<string, string> = {};
  const roles: Record<string, string> = {};

  before(async () => {
    s = await startGraphSuite();
    for (const name of ['alice', 'bob', 'carol'] as const) ids[name] = await createUser(s, name, passwords[name]);
    const definitions = await s.call(s.admin, 'GET', '/roleManagement/directory/roleDefinitions');
    for (const d of definitions.body.value as Json[]) roles[d.displayName as string] = d.id as string;
    const group = await s.call(s.admin, 'POST', '/groups', { displayName: 'readers', mailNickname: 'readers' });
    ids.group = group.body.id as string;
  });
  after(async () => {
    await s?.stop();
  });

  it("refuses a normal user's writes with Graph's 403 until User Administrator is assigned, and again once it is removed", async () => {
    const bob = await s.token('bob', passwords.bob);
    const newUser = (n: string) => ({ displayName: `Made by bob ${n}`, userPrincipalName: `bobmade${n}@example.org`, mailNickname: `bobmade${n}` });
    const denied = await s.call(bob, 'POST', '/users', newUser('1'));
    expectGraphError(denied, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    expectGraphError(await s.call(bob, 'POST', '/groups', { displayName: 'bobs', mailNickname: 'bobs' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await s.call(bob, 'PATCH', `/users/${ids.carol}`, { displayName: 'x' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await s.call(bob, 'DELETE', `/users/${ids.carol}`), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await s.call(bob, 'POST', '/roleManagement/directory/roleAssignments', { roleDefinitionId: roles['User Administrator'], principalId: ids.bob, directoryScopeId: '/' }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await s.call(bob, 'POST', '/applications', { displayName: 'bobs app' }), 403, 'Authorization_RequestDenied');
    // Nothing was made by the refused requests.
    assert.equal((await s.call(s.admin, 'GET', `/users?$filter=${encodeURIComponent("mailNickname eq 'bobmade1'")}`)).body.value.length, 0);

    const assigned = await s.call(s.admin, 'POST', '/roleManagement/directory/roleAssignments', {
      roleDefinitionId: roles['User Administrator'],
      principalId: ids.bob,
      directoryScopeId: '/',
    });
    assert.equal(assigned.status, 201, assigned.text);
    assert.equal(assigned.body.principalId, ids.bob);
    const listed = await s.call(s.admin, 'GET', `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${ids.bob}'`)}`);
    assert.deepEqual((listed.body.value as Json[]).map((a) => a.id), [assigned.body.id]);
    // The same token: authorization reads the directory's current state, not the token.
    const allowed = await s.call(bob, 'POST', '/users', newUser('2'));
    assert.equal(allowed.status, 201, allowed.text);
    assert.equal((await s.call(bob, 'POST', '/groups', { displayName: 'bobs', mailNickname: 'bobs' })).status, 201);
    // User Administrator does not grant application or role writes.
    expectGraphError(await s.call(bob, 'POST', '/applications', { displayName: 'bobs app' }), 403, 'Authorization_RequestDenied');

    assert.equal((await s.call(s.admin, 'DELETE', `/roleManagement/directory/roleAssignments/${assigned.body.id}`)).status, 204);
    expectGraphError(await s.call(bob, 'POST', '/users', newUser('3')), 403, 'Authorization_RequestDenied');
  });

  it('lets any signed-in user read users and groups, never credentials', async () => {
    const bob = await s.token('bob', passwords.bob);
    const app = await s.call(s.admin, 'POST', '/applications', { displayName: 'credential-reader-test' });
    const secret = await s.call(s.admin, 'POST', `/applications/${app.body.id}/addPassword`, { passwordCredential: { displayName: 'ci' } });
    assert.equal(secret.status, 200, secret.text);
    const secretText = secret.body.secretText as string;
    assert.ok(secretText.length >= 40);
    assert.match(secret.headers.get('cache-control') ?? '', /no-store/);

    const users = await s.call(bob, 'GET', '/users?$top=999');
    assert.equal(users.status, 200, users.text);
    assert.ok((users.body.value as Json[]).some((u) => u.id === ids.alice));
    assert.equal((await s.call(bob, 'GET', '/groups')).status, 200);
    assert.equal((await s.call(bob, 'GET', `/groups/${ids.group}/members`)).status, 200);
    const asBob = await s.call(bob, 'GET', `/applications/${app.body.id}`);
    assert.equal(asBob.status, 200, asBob.text);
    assert.deepEqual(asBob.body.passwordCredentials, []);
    const asAdmin = await s.call(s.admin, 'GET', `/applications/${app.body.id}`);
    const [cred] = asAdmin.body.passwordCredentials as Json[];
    assert.equal(cred!.keyId, secret.body.keyId);
    assert.equal(cred!.hint, secretText.slice(0, 3));
    assert.equal(cred!.secretText, null);
    for (const answer of [users, asBob, asAdmin, await s.call(s.admin, 'GET', '/applications?$top=999'), await s.call(s.admin, 'GET', '/users?$top=999')]) {
      assert.ok(!answer.text.includes(secretText), 'the secret is never read back');
      assert.ok(!/scrypt|password_?hash|secret_?digest/i.test(answer.text), 'no hash or digest in any answer');
      for (const password of Object.values(passwords)) assert.ok(!answer.text.includes(password));
    }
  });

  it("refuses a disabled user's token on the very next request", async () => {
    const carol = await s.token('carol', passwords.carol);
    assert.equal((await s.call(carol, 'GET', '/me')).status, 200);
    assert.equal((await s.call(s.admin, 'PATCH', `/users/${ids.carol}`, { accountEnabled: false })).status, 204);
    const refused = await s.call(carol, 'GET', '/me');
    expectGraphError(refused, 401, 'InvalidAuthenticationToken');
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer realm="", authorization_uri="${s.publicUrl}/${s.t.tenantId}/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
    );
    assert.equal((await s.call(s.admin, 'PATCH', `/users/${ids.carol}`, { accountEnabled: true })).status, 204);
    assert.equal((await s.call(carol, 'GET', '/me')).status, 200);
  });

  it("serves an app-only caller by its role, and refuses a deleted service principal's token at once", async () => {
    const app = await s.call(s.admin, 'POST', '/applications', { displayName: 'graph-sp-caller' });
    const sp = await s.call(s.admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    const secret = await s.call(s.admin, 'POST', `/applications/${app.body.id}/addPassword`, {});
    assert.equal(secret.status, 200, secret.text);
    // Graph's alias audience.
    const issued = await postForm(s.t.tokenUrl, { grant_type: 'client_credentials', client_id: app.body.appId, client_secret: secret.body.secretText, scope: 'https://graph.microsoft.com/.default' });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const token = issued.body.access_token as string;
    // An app-only caller reads only with a role, and has no /me.
    expectGraphError(await s.call(token, 'GET', '/users'), 403, 'Authorization_RequestDenied');
    expectGraphError(await s.call(token, 'GET', '/me'), 400, 'Request_BadRequest', '/me request is only valid with delegated authentication flow.');
    const reader = await s.call(s.admin, 'POST', '/roleManagement/directory/roleAssignments', { roleDefinitionId: roles['Directory Readers'], principalId: sp.body.id });
    assert.equal(reader.status, 201, reader.text);
    assert.equal((await s.call(token, 'GET', '/users')).status, 200);
    assert.equal((await s.call(s.admin, 'DELETE', `/servicePrincipals/${sp.body.id}`)).status, 204);
    expectGraphError(await s.call(token, 'GET', '/users'), 401, 'InvalidAuthenticationToken');
  });

  it('issues a client secret with addPassword that works at the token endpoint, and removePassword revokes it', async () => {
    const app = await s.call(s.admin, 'POST', '/applications', { displayName: 'graph-secret-app' });
    await s.call(s.admin, 'POST', '/servicePrincipals', { appId: app.body.appId });
    const secret = await s.call(s.admin, 'POST', `/applications/${app.body.id}/addPassword`, { passwordCredential: { displayName: 'deploy', endDateTime: new Date(Date.now() + 86_400_000).toISOString() } });
    assert.equal(secret.status, 200, secret.text);
    assert.equal(secret.body['@odata.context'], `${s.publicUrl}/graph/v1.0/$metadata#microsoft.graph.passwordCredential`);
    const form = { grant_type: 'client_credentials', client_id: app.body.appId, client_secret: secret.body.secretText as string, scope: s.scope };
    assert.equal((await postForm(s.t.tokenUrl, form)).status, 200);
    ids.secretText = secret.body.secretText as string;
    const removed = await s.call(s.admin, 'POST', `/applications/${app.body.id}/removePassword`, { keyId: secret.body.keyId });
    assert.equal(removed.status, 204, removed.text);
    assert.equal((await postForm(s.t.tokenUrl, form)).status, 401);
  });

  it('changes the signed-in user\'s password through /me/changePassword', async () => {
    const alice = await s.token('alice', passwords.alice);
    const wrong = await s.call(alice, 'POST', '/me/changePassword', { currentPassword: 'Not-the-right-one-00', newPassword: passwords.aliceNew });
    expectGraphError(wrong, 403, 'Authorization_RequestDenied', 'The current password is incorrect.');
    const weak = await s.call(alice, 'POST', '/me/changePassword', { currentPassword: passwords.alice, newPassword: 'password1234' });
    expectGraphError(weak, 400, 'Request_BadRequest');
    const changed = await s.call(alice, 'POST', '/me/changePassword', { currentPassword: passwords.alice, newPassword: passwords.aliceNew });
    assert.equal(changed.status, 204, changed.text);
    await assert.rejects(s.token('alice', passwords.alice));
    assert.ok(await s.token('alice', passwords.aliceNew));
  });

  it('keeps no copy of the client secret or of any password in the database', async () => {
    let bytes: Buffer;
    if (s.storage.url.startsWith('sqlite:')) {
      // The file and its write-ahead log, byte for byte.
      const files = [join(s.home, 'keyhaven.db'), join(s.home, 'keyhaven.db-wal')].filter((f) => existsSync(f));
      assert.ok(files.length > 0);
      bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    } else {
      // Every row of every table, as text.
      bytes = await withPgClient(s.storage.url, async (c) => {
        const tables = await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        const dumps: string[] = [];
        for (const { table_name: table } of tables.rows) {
          const rows = await c.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replace(/"/g, '""')}" t`);
          dumps.push(...rows.rows.map((r) => r.row));
        }
        return Buffer.from(dumps.join('\n'));
      });
    }
    const secrets = [ids.secretText!, ...Object.values(passwords), s.t.adminPassword];
    for (const value of secrets) {
      assert.ok(value && value.length >= 12);
      assert.equal(bytes.indexOf(Buffer.from(value, 'utf8')), -1, 'a credential is in the database');
      assert.equal(bytes.indexOf(Buffer.from(value, 'utf16le')), -1);
    }
    // The search would find them: a value known to be stored is there.
    assert.notEqual(bytes.indexOf(Buffer.from('alice@example.org')), -1);
  });
});
