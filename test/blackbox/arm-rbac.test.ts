// Role-based access control through the management API on a live server: role assignments
// made and removed with ARM's REST calls (as az role assignment create/delete sends them),
// 403 AuthorizationFailed whether or not the target exists for a caller without permission and
// 404 only for one who may read the scope, groups honoured transitively, service principals,
// the permissions endpoint, custom roles, elevate access for a Global Administrator — and
// revocation (an assignment deleted, a user removed from a group) effective on the very next
// request.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createServicePrincipal } from '../helpers/tenant-fixtures.js';
import { createUser, type Json } from './graph-test-client.js';
import { expectArmError, startArmSuite, type ArmSuite } from './arm-test-client.js';

const RV = 'api-version=2021-04-01';
const AV = 'api-version=2022-04-01';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const UAA = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';

describe('RBAC through the management API', () => {
  let s: ArmSuite;
  let sub: string;
  const pw = { bob: 'Granite-willow-sunrise-34', carol: 'Velvet-compass-orchard-92' };
  const ids = {} as Record<"bob" | "carol" | "outer" | "inner", string>;
  let bob: string;
  let carol: string;

  const assign = (token: string, scope: string, role: string, principalId: string, extra: Json = {}, name: string = randomUUID(), version = AV) =>
    s.arm(token, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=${version.replace('api-version=', '')}`, {
      properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, ...extra },
    });

  before(async () => {
    s = await startArmSuite();
    sub = `/subscriptions/${s.subscriptionId}`;
    ids.bob = await createUser(s, 'bob', pw.bob);
    ids.carol = await createUser(s, 'carol', pw.carol);
    const outer = await s.call(s.admin, 'POST', '/groups', { displayName: 'ml-team', mailNickname: 'ml-team', securityEnabled: true });
    const inner = await s.call(s.admin, 'POST', '/groups', { displayName: 'ml-interns', mailNickname: 'ml-interns', securityEnabled: true });
    ids.outer = outer.body.id;
    ids.inner = inner.body.id;
    for (const [g, m] of [[ids.outer, ids.inner], [ids.inner, ids.carol]] as const) {
      const r = await s.call(s.admin, 'POST', `/groups/${g}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${m}` });
      assert.equal(r.status, 204, r.text);
    }
    for (const rg of ['data', 'other']) assert.equal((await s.arm(s.armAdmin, 'PUT', `${sub}/resourceGroups/${rg}?${RV}`, { location: 'westeurope' })).status, 201);
    bob = await s.armToken('bob', pw.bob);
    carol = await s.armToken('carol', pw.carol);
  });
  after(async () => {
    await s?.stop();
  });

  it('answers 403 AuthorizationFailed to a caller without a role, whether or not the target exists', async () => {
    for (const path of [`${sub}/resourceGroups/data?${RV}`, `${sub}/resourceGroups/does-not-exist?${RV}`, `/subscriptions/${randomUUID()}/resourceGroups/x?${RV}`]) {
      expectArmError(await s.arm(bob, 'GET', path), 403, 'AuthorizationFailed', /does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/read'/);
    }
    expectArmError(await s.arm(bob, 'PUT', `${sub}/resourceGroups/bobs?${RV}`, { location: 'westeurope' }), 403, 'AuthorizationFailed');
    expectArmError(await assign(bob, sub, READER, ids.bob), 403, 'AuthorizationFailed');
    const subs = await s.arm(bob, 'GET', '/subscriptions?api-version=2019-11-01');
    assert.deepEqual(subs.body.value, []);
    // The refused PUT wrote nothing.
    expectArmError(await s.arm(s.armAdmin, 'GET', `${sub}/resourceGroups/bobs?${RV}`), 404, 'ResourceGroupNotFound');
  });

  it('grants Reader at a resource group (az role assignment create) to that group and what is in it, and nothing else', async () => {
    const scope = `${sub}/resourceGroups/data`;
    // az 2.45 sends 2020-04-01-preview with principalType.
    const created = await assign(s.armAdmin, scope, READER, ids.bob, { principalType: 'User' }, randomUUID(), 'api-version=2020-04-01-preview');
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.type, 'Microsoft.Authorization/roleAssignments');
    assert.equal(created.body.properties.scope, scope);
    assert.equal(created.body.properties.principalType, 'User');
    assert.equal(created.body.properties.roleDefinitionId, `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`);
    assert.equal(created.body.id, `${scope}/providers/Microsoft.Authorization/roleAssignments/${created.body.name}`);
    // The same role again for the same principal at the same scope: ARM's RoleAssignmentExists.
    expectArmError(await assign(s.armAdmin, scope, READER, ids.bob), 409, 'RoleAssignmentExists');

    assert.equal((await s.arm(bob, 'GET', `${scope}?${RV}`)).status, 200);
    // 404 now that bob may read the scope.
    expectArmError(await s.arm(bob, 'GET', `${scope}/providers/Microsoft.Compute/virtualMachines/nope?api-version=2022-11-01`), 404, 'ResourceNotFound');
    expectArmError(await s.arm(bob, 'GET', `${sub}/resourceGroups/other?${RV}`), 403, 'AuthorizationFailed');
    expectArmError(await s.arm(bob, 'DELETE', `${scope}?${RV}`), 403, 'AuthorizationFailed');
    const groups = await s.arm(bob, 'GET', `${sub}/resourcegroups?${RV}`);
    assert.deepEqual(groups.body.value.map((g: Json) => g.name), ['data']);
    // A subscription in which bob holds a role is listed (az login shows it).
    const subs = await s.arm(bob, 'GET', '/subscriptions?api-version=2019-11-01');
    assert.deepEqual(subs.body.value.map((x: Json) => x.subscriptionId), [s.subscriptionId]);

    const perms = await s.arm(bob, 'GET', `${scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`);
    assert.equal(perms.status, 200, perms.text);
    assert.deepEqual(perms.body.value, [{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }]);

    const listed = await s.arm(s.armAdmin, 'GET', `${scope}/providers/Microsoft.Authorization/roleAssignments?${AV}&$filter=${encodeURIComponent(`principalId eq '${ids.bob}'`)}`);
    assert.deepEqual(listed.body.value.map((a: Json) => a.name), [created.body.name]);

    // Revocation: the very next request after the delete is refused.
    const del = await s.arm(s.armAdmin, 'DELETE', `${scope}/providers/Microsoft.Authorization/roleAssignments/${created.body.name}?${AV}`);
    assert.equal(del.status, 200, del.text);
    expectArmError(await s.arm(bob, 'GET', `${scope}?${RV}`), 403, 'AuthorizationFailed');
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${scope}/providers/Microsoft.Authorization/roleAssignments/${created.body.name}?${AV}`)).status, 204);
  });

  it('honours groups transitively, never the token, and revokes on the next request when a member leaves', async () => {
    const scope = `${sub}/resourceGroups/data`;
    const created = await assign(s.armAdmin, scope, CONTRIBUTOR, ids.outer, { principalType: 'Group' });
    assert.equal(created.status, 201, created.text);
    // carol is in ml-interns, which is in ml-team: the token she already holds carries no new claim.
    const vm = `${scope}/providers/Microsoft.Compute/virtualMachines/carols?api-version=2022-11-01`;
    assert.equal((await s.arm(carol, 'PUT', vm, { location: 'westeurope', properties: {} })).status, 201);
    // Contributor's notActions: no role assignments.
    expectArmError(await assign(carol, scope, READER, ids.bob), 403, 'AuthorizationFailed');
    const leave = await s.call(s.admin, 'DELETE', `/groups/${ids.inner}/members/${ids.carol}/$ref`);
    assert.equal(leave.status, 204, leave.text);
    expectArmError(await s.arm(carol, 'GET', vm), 403, 'AuthorizationFailed');
    assert.equal((await s.arm(s.armAdmin, 'GET', vm)).status, 200);
  });

  it('grants a service principal, and checks principalType and the principal', async () => {
    const app = await createServicePrincipal(s.t, s.admin, 'pipeline');
    const token = await s.appToken(app.appId, app.secret);
    const scope = `${sub}/resourceGroups/other`;
    expectArmError(await s.arm(token, 'GET', `${scope}?${RV}`), 403, 'AuthorizationFailed');
    expectArmError(await assign(s.armAdmin, scope, READER, app.servicePrincipalId, { principalType: 'User' }), 400, 'UnmatchedPrincipalType');
    expectArmError(await assign(s.armAdmin, scope, READER, randomUUID()), 400, 'PrincipalNotFound');
    expectArmError(await assign(s.armAdmin, scope, randomUUID(), app.servicePrincipalId), 400, 'RoleDefinitionDoesNotExist');
    expectArmError(await assign(s.armAdmin, scope, READER, app.servicePrincipalId, {}, 'not-a-guid'), 400, 'InvalidRoleAssignmentId');
    const ok = await assign(s.armAdmin, scope, READER, app.servicePrincipalId, { principalType: 'ServicePrincipal' });
    assert.equal(ok.status, 201, ok.text);
    const got = await s.arm(token, 'GET', `${scope}?${RV}`);
    assert.equal(got.status, 200, got.text);
    assert.equal((await s.arm(s.armAdmin, 'GET', `${scope}/resources?${RV}`)).status, 200);
  });

  it('lists built-in roles under their Azure names and ids, filtered by roleName as az does', async () => {
    const all = await s.arm(bob, 'GET', `${sub}/providers/Microsoft.Authorization/roleDefinitions?api-version=2018-01-01-preview`);
    assert.equal(all.status, 200, all.text);
    const names = new Map(all.body.value.map((r: Json) => [r.properties.roleName, r.name]));
    assert.equal(names.get('Owner'), '8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    assert.equal(names.get('Key Vault Secrets User'), '4633458b-17de-408a-b874-0445c86b69e6');
    assert.equal(names.get('AcrPull'), '7f951dda-4ed3-4680-a7ca-43fe172d538d');
    const one = await s.arm(bob, 'GET', `${sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Managed Identity Operator'")}&${AV}`);
    assert.equal(one.body.value.length, 1);
    assert.equal(one.body.value[0].id, `${sub}/providers/Microsoft.Authorization/roleDefinitions/f1a07417-d97a-45cb-824c-7a7467783830`);
    assert.deepEqual(one.body.value[0].properties.permissions[0].actions.slice(0, 2), [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
    ]);
  });

  it('creates a custom role assignable at its scopes only, and refuses to delete it while assigned', async () => {
    const id = randomUUID();
    const path = `${sub}/providers/Microsoft.Authorization/roleDefinitions/${id}?${AV}`;
    const body = { properties: { roleName: 'VM Operator', type: 'CustomRole', description: 'start and stop', assignableScopes: [`${sub}/resourceGroups/data`], permissions: [{ actions: ['Microsoft.Compute/virtualMachines/*'], notActions: ['Microsoft.Compute/virtualMachines/delete'] }] } };
    expectArmError(await s.arm(bob, 'PUT', path, body), 403, 'AuthorizationFailed');
    const created = await s.arm(s.armAdmin, 'PUT', path, body);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.properties.type, 'CustomRole');
    expectArmError(await s.arm(s.armAdmin, 'PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}?${AV}`, { properties: { ...body.properties, roleName: 'vm operator' } }), 409, 'RoleDefinitionWithSameNameExists');
    expectArmError(await assign(s.armAdmin, `${sub}/resourceGroups/other`, id, ids.bob), 400, 'InvalidCreateRoleAssignmentRequest');
    const a = await assign(s.armAdmin, `${sub}/resourceGroups/data`, id, ids.bob);
    assert.equal(a.status, 201, a.text);
    const vm = `${sub}/resourceGroups/data/providers/Microsoft.Compute/virtualMachines/bobs?api-version=2022-11-01`;
    assert.equal((await s.arm(bob, 'PUT', vm, { location: 'westeurope', properties: {} })).status, 201);
    expectArmError(await s.arm(bob, 'DELETE', vm), 403, 'AuthorizationFailed');
    expectArmError(await s.arm(s.armAdmin, 'DELETE', path), 409, 'RoleDefinitionHasAssignments');
  });

  it('lets a Global Administrator elevate to User Access Administrator at the root; nobody else', async () => {
    expectArmError(await s.arm(bob, 'POST', '/providers/Microsoft.Authorization/elevateAccess?api-version=2016-07-01'), 403, 'AuthorizationFailed');
    const elevated = await s.arm(s.armAdmin, 'POST', '/providers/Microsoft.Authorization/elevateAccess?api-version=2016-07-01');
    assert.equal(elevated.status, 200, elevated.text);
    const root = await s.arm(s.armAdmin, 'GET', `/providers/Microsoft.Authorization/roleAssignments?${AV}&$filter=atScope()`);
    assert.equal(root.status, 200, root.text);
    assert.ok(root.body.value.some((r: Json) => r.properties.scope === '/' && r.properties.roleDefinitionId.endsWith(UAA)), root.text);
  });
});
