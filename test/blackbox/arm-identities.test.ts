// Managed identities on a live server: user-assigned identities as resources (each a
// ManagedIdentity service principal in the directory, clientId = appId, gone with the
// resource and with its role assignments), identity blocks on machines and scale sets read as
// ARM answers them, the Managed Identity Operator rule (attaching a user-assigned identity
// needs assign/action on it: LinkedAuthorizationFailed without, allowed with), a resource
// group's deletion taking identities and their principals with it, hostile identity bodies
// (each ARM's error, nothing written), and the Azure CLI (az identity, az vm identity assign,
// az resource list) against Keyhaven registered as a custom cloud.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, ROOT, TEST_CA_CERT } from '../helpers/server-process.js';
import { createServicePrincipal } from '../helpers/tenant-fixtures.js';
import { createUser, type Json } from './graph-test-client.js';
import { expectArmError, startArmSuite, type ArmSuite } from './arm-test-client.js';

const RV = 'api-version=2021-04-01';
const AV = 'api-version=2022-04-01';
const CV = 'api-version=2022-11-01';
const MV = 'api-version=2023-01-31';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const MANAGED_IDENTITY_OPERATOR = 'f1a07417-d97a-45cb-824c-7a7467783830';

describe('managed identities through the management API', () => {
  let s: ArmSuite;
  let sub: string;
  let bob: string;
  let bobId: string;
  const bobPassword = 'Granite-willow-sunrise-34';

  const identityId = (rg: string, name: string) => `${sub}/resourceGroups/${rg}/providers/${UAI}/${name}`;
  const vmId = (rg: string, name: string, type = 'virtualMachines') => `${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/${type}/${name}`;
  const createIdentity = async (rg: string, name: string, version = MV) => {
    const r = await s.arm(s.armAdmin, 'PUT', `${identityId(rg, name)}?${version}`, { location: 'westeurope' });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const sp = (id: string) => s.call(s.admin, 'GET', `/servicePrincipals/${id}`);
  const assign = async (scope: string, role: string, principalId: string, principalType = 'User') => {
    const name = randomUUID();
    const r = await s.arm(s.armAdmin, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?${AV}`, {
      properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType },
    });
    assert.equal(r.status, 201, r.text);
    return name;
  };
  const managedPrincipals = async () => {
    const r = await s.call(s.admin, 'GET', `/servicePrincipals?$filter=${encodeURIComponent("servicePrincipalType eq 'ManagedIdentity'")}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.value as Json[]).map((p) => p.id as string).sort();
  };

  before(async () => {
    s = await startArmSuite();
    sub = `/subscriptions/${s.subscriptionId}`;
    for (const rg of ['ids', 'apps', 'doomed', 'hostile']) assert.equal((await s.arm(s.armAdmin, 'PUT', `${sub}/resourceGroups/${rg}?${RV}`, { location: 'westeurope' })).status, 201);
    bobId = await createUser(s, 'bob', bobPassword);
    bob = await s.armToken('bob', bobPassword);
  });
  after(async () => {
    await s?.stop();
  });

  it('creates a user-assigned identity as a ManagedIdentity service principal, keeps its ids across PUTs and removes it (and its role assignments) on DELETE', async () => {
    const created = await createIdentity('ids', 'training', 'api-version=2022-01-31-preview');
    assert.equal(created.type, UAI);
    assert.equal(created.id, identityId('ids', 'training'));
    assert.equal(created.name, 'training');
    assert.equal(created.location, 'westeurope');
    const { clientId, principalId, tenantId } = created.properties;
    assert.equal(tenantId, s.t.tenantId);
    assert.match(clientId, /^[0-9a-f-]{36}$/);
    assert.match(principalId, /^[0-9a-f-]{36}$/);
    assert.notEqual(clientId, principalId);

    // The directory holds it: Graph's /servicePrincipals, type ManagedIdentity, appId = clientId.
    const principal = await sp(principalId);
    assert.equal(principal.status, 200, principal.text);
    assert.equal(principal.body.servicePrincipalType, 'ManagedIdentity');
    assert.equal(principal.body.appId, clientId);
    assert.equal(principal.body.displayName, 'training');
    assert.ok((await managedPrincipals()).includes(principalId));
    // It belongs to the resource: the directory API does not delete it on its own.
    const refused = await s.call(s.admin, 'DELETE', `/servicePrincipals/${principalId}`);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'Request_BadRequest');
    assert.equal((await sp(principalId)).status, 200);

    // Every api-version az and the SDKs send answers; ids are read-only and survive a PUT.
    for (const version of ['2018-11-30', '2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30']) {
      const again = await s.arm(s.armAdmin, 'PUT', `${identityId('ids', 'training')}?api-version=${version}`, {
        location: 'westeurope', tags: { v: version }, properties: { clientId: randomUUID(), principalId: randomUUID() },
      });
      assert.equal(again.status, 200, `${version}: ${again.text}`);
      assert.equal(again.body.properties.clientId, clientId);
      assert.equal(again.body.properties.principalId, principalId);
      const got = await s.arm(s.armAdmin, 'GET', `${identityId('ids', 'training')}?api-version=${version}`);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.tags.v, version);
    }
    expectArmError(await s.arm(s.armAdmin, 'GET', `${identityId('ids', 'training')}?api-version=2015-01-01`), 400, 'NoRegisteredProviderFound');
    const listed = await s.arm(s.armAdmin, 'GET', `${sub}/providers/${UAI}?${MV}`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.body.value as Json[]).map((r) => r.name), ['training']);
    assert.equal((listed.body.value as Json[])[0]!.properties.principalId, principalId);

    // A role for the identity (as a ServicePrincipal), then the identity deleted: the principal and its grant go.
    const grant = await assign(`${sub}/resourceGroups/apps`, READER, principalId, 'ServicePrincipal');
    const deleted = await s.arm(s.armAdmin, 'DELETE', `${identityId('ids', 'training')}?${MV}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal((await sp(principalId)).status, 404);
    expectArmError(await s.arm(s.armAdmin, 'GET', `${sub}/resourceGroups/apps/providers/Microsoft.Authorization/roleAssignments/${grant}?${AV}`), 404, 'RoleAssignmentNotFound');
    expectArmError(await s.arm(s.armAdmin, 'GET', `${identityId('ids', 'training')}?${MV}`), 404, 'ResourceNotFound');
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${identityId('ids', 'training')}?${MV}`)).status, 204);
  });

  it('answers identity blocks on machines and scale sets as ARM does, the system-assigned principal made and removed with them', async () => {
    const one = await createIdentity('ids', 'reader-one');
    const two = await createIdentity('ids', 'reader-two');
    for (const type of ['virtualMachines', 'virtualMachineScaleSets']) {
      const id = vmId('apps', `m-${type}`, type);
      const put = (identity: unknown) => s.arm(s.armAdmin, 'PUT', `${id}?${CV}`, { location: 'westeurope', properties: {}, identity });
      const system = await put({ type: 'SystemAssigned' });
      assert.equal(system.status, 201, system.text);
      assert.deepEqual(Object.keys(system.body.identity), ['type', 'principalId', 'tenantId']);
      assert.equal(system.body.identity.type, 'SystemAssigned');
      assert.equal(system.body.identity.tenantId, s.t.tenantId);
      const systemId = system.body.identity.principalId as string;
      const principal = await sp(systemId);
      assert.equal(principal.status, 200, principal.text);
      assert.equal(principal.body.servicePrincipalType, 'ManagedIdentity');
      assert.equal(principal.body.displayName, `m-${type}`);

      // Both kinds (a client may spell the type without the space); the system principal is kept.
      const both = await put({ type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [one.id.toLowerCase()]: {} } });
      assert.equal(both.status, 200, both.text);
      assert.deepEqual(both.body.identity, {
        type: 'SystemAssigned, UserAssigned',
        principalId: systemId,
        tenantId: s.t.tenantId,
        userAssignedIdentities: { [one.id]: { principalId: one.properties.principalId, clientId: one.properties.clientId } },
      });
      const read = await s.arm(s.armAdmin, 'GET', `${id}?${CV}`);
      assert.deepEqual(read.body.identity, both.body.identity);

      // PATCH merges the map (az vm identity assign / remove): attach two, then detach one with null.
      const patched = await s.arm(s.armAdmin, 'PATCH', `${id}?${CV}`, { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [two.id]: {} } } });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(Object.keys(patched.body.identity.userAssignedIdentities).sort(), [one.id, two.id].sort());
      const detached = await s.arm(s.armAdmin, 'PATCH', `${id}?${CV}`, { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [one.id]: null } } });
      assert.equal(detached.status, 200, detached.text);
      assert.deepEqual(detached.body.identity.userAssignedIdentities, { [two.id]: { principalId: two.properties.principalId, clientId: two.properties.clientId } });
      // A read-modify-write PUT of what was read changes nothing.
      const same = await s.arm(s.armAdmin, 'PUT', `${id}?${CV}`, { location: 'westeurope', properties: {}, identity: detached.body.identity });
      assert.equal(same.status, 200, same.text);
      assert.deepEqual(same.body.identity, detached.body.identity);

      // Switching the system-assigned identity off deletes its principal.
      const userOnly = await put({ type: 'UserAssigned', userAssignedIdentities: { [two.id]: {} } });
      assert.equal(userOnly.status, 200, userOnly.text);
      assert.deepEqual(userOnly.body.identity, { type: 'UserAssigned', userAssignedIdentities: { [two.id]: { principalId: two.properties.principalId, clientId: two.properties.clientId } } });
      assert.equal((await sp(systemId)).status, 404);
      // On again: a new principal. None: no identity block at all.
      const again = await put({ type: 'SystemAssigned' });
      const newSystem = again.body.identity.principalId as string;
      assert.notEqual(newSystem, systemId);
      assert.equal((await sp(newSystem)).status, 200);
      const none = await put({ type: 'None' });
      assert.equal(none.status, 200, none.text);
      assert.equal(none.body.identity, undefined);
      assert.equal((await sp(newSystem)).status, 404);
      // Deleting the resource deletes its system-assigned principal.
      const last = await put({ type: 'SystemAssigned' });
      const lastSystem = last.body.identity.principalId as string;
      assert.equal((await s.arm(s.armAdmin, 'DELETE', `${id}?${CV}`)).status, 200);
      assert.equal((await sp(lastSystem)).status, 404);
      // The user-assigned identities outlive what they were attached to.
      assert.equal((await sp(two.properties.principalId)).status, 200);
    }
  });

  it('refuses to attach a user-assigned identity without assign/action on it (LinkedAuthorizationFailed, nothing written) and allows it with Managed Identity Operator', async () => {
    const shared = await createIdentity('ids', 'shared');
    const vm = vmId('apps', 'bobs-vm');
    const body = { location: 'westeurope', properties: {}, identity: { type: 'UserAssigned', userAssignedIdentities: { [shared.id]: {} } } };
    // Contributor on the machines' group: write on the machine, nothing on the identity.
    const contributor = await assign(`${sub}/resourceGroups/apps`, CONTRIBUTOR, bobId);
    const linkedMessage = new RegExp(
      `has permission to perform action 'Microsoft\\.Compute/virtualMachines/write' on scope '${vm.replace(/[.]/g, '\\.')}'; however, it does not have permission to perform action\\(s\\) 'Microsoft\\.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope\\(s\\) '${shared.id.replace(/[.]/g, '\\.')}'`,
    );
    expectArmError(await s.arm(bob, 'PUT', `${vm}?${CV}`, body), 403, 'LinkedAuthorizationFailed', linkedMessage);
    expectArmError(await s.arm(s.armAdmin, 'GET', `${vm}?${CV}`), 404, 'ResourceNotFound');
    // An existing machine: a PATCH attaching it is refused too, and the machine is unchanged.
    const plain = await s.arm(bob, 'PUT', `${vm}?${CV}`, { location: 'westeurope', properties: {} });
    assert.equal(plain.status, 201, plain.text);
    expectArmError(await s.arm(bob, 'PATCH', `${vm}?${CV}`, { identity: body.identity }), 403, 'LinkedAuthorizationFailed', linkedMessage);
    const unchanged = await s.arm(s.armAdmin, 'GET', `${vm}?${CV}`);
    assert.equal(unchanged.body.etag, plain.body.etag);
    assert.equal(unchanged.body.identity, undefined);
    // A Reader of the identity is not enough either (read is not assign).
    const reader = await assign(shared.id, READER, bobId);
    expectArmError(await s.arm(bob, 'PATCH', `${vm}?${CV}`, { identity: body.identity }), 403, 'LinkedAuthorizationFailed');
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${shared.id}/providers/Microsoft.Authorization/roleAssignments/${reader}?${AV}`)).status, 200);

    // Managed Identity Operator on the identity: allowed.
    const operator = await assign(shared.id, MANAGED_IDENTITY_OPERATOR, bobId);
    const attached = await s.arm(bob, 'PATCH', `${vm}?${CV}`, { identity: body.identity });
    assert.equal(attached.status, 200, attached.text);
    assert.deepEqual(attached.body.identity, { type: 'UserAssigned', userAssignedIdentities: { [shared.id]: { principalId: shared.properties.principalId, clientId: shared.properties.clientId } } });
    // Detaching needs no assign/action; a second identity without the role is refused again.
    const other = await createIdentity('ids', 'not-bobs');
    expectArmError(await s.arm(bob, 'PATCH', `${vm}?${CV}`, { identity: { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } } }), 403, 'LinkedAuthorizationFailed', new RegExp(other.id.replace(/[.]/g, '\\.')));
    // The operator alone (without write on the machine) cannot attach: write is checked first.
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${sub}/resourceGroups/apps/providers/Microsoft.Authorization/roleAssignments/${contributor}?${AV}`)).status, 200);
    expectArmError(await s.arm(bob, 'PUT', `${vmId('apps', 'bobs-second')}?${CV}`, body), 403, 'AuthorizationFailed', /'Microsoft\.Compute\/virtualMachines\/write'/);
    // Revoked operator: the next attach is refused (at a machine bob may write again).
    await assign(`${sub}/resourceGroups/apps`, CONTRIBUTOR, bobId);
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${shared.id}/providers/Microsoft.Authorization/roleAssignments/${operator}?${AV}`)).status, 200);
    expectArmError(await s.arm(bob, 'PUT', `${vmId('apps', 'bobs-third')}?${CV}`, body), 403, 'LinkedAuthorizationFailed');
    expectArmError(await s.arm(s.armAdmin, 'GET', `${vmId('apps', 'bobs-third')}?${CV}`), 404, 'ResourceNotFound');
    // Managed Identity Operator at the identities' group grants it for every identity in it.
    await assign(`${sub}/resourceGroups/ids`, MANAGED_IDENTITY_OPERATOR, bobId);
    const third = await s.arm(bob, 'PUT', `${vmId('apps', 'bobs-third')}?${CV}`, { ...body, identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [shared.id]: {}, [other.id]: {} } } });
    assert.equal(third.status, 201, third.text);
    assert.equal(Object.keys(third.body.identity.userAssignedIdentities).length, 2);
  });

  it("deletes a resource group's identities with it: user-assigned and system-assigned principals and their role assignments", async () => {
    const uai = (await s.arm(s.armAdmin, 'PUT', `${identityId('doomed', 'pipeline')}?${MV}`, { location: 'westeurope' })).body;
    const vm = await s.arm(s.armAdmin, 'PUT', `${vmId('doomed', 'worker')}?${CV}`, { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } } });
    assert.equal(vm.status, 201, vm.text);
    const scale = await s.arm(s.armAdmin, 'PUT', `${vmId('doomed', 'pool', 'virtualMachineScaleSets')}?${CV}`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    assert.equal(scale.status, 201, scale.text);
    const principals = [uai.properties.principalId, vm.body.identity.principalId, scale.body.identity.principalId] as string[];
    // Grants elsewhere (at the subscription, another group) held by each: they go with the principals.
    const grants = [];
    for (const p of principals) grants.push(await assign(`${sub}/resourceGroups/apps`, READER, p, 'ServicePrincipal'));
    const deleted = await s.arm(s.armAdmin, 'DELETE', `${sub}/resourceGroups/doomed?${RV}`);
    assert.ok(deleted.status === 200 || deleted.status === 202, deleted.text);
    for (const p of principals) assert.equal((await sp(p)).status, 404, p);
    for (const g of grants) expectArmError(await s.arm(s.armAdmin, 'GET', `${sub}/resourceGroups/apps/providers/Microsoft.Authorization/roleAssignments/${g}?${AV}`), 404, 'RoleAssignmentNotFound');
    const remaining = await managedPrincipals();
    for (const p of principals) assert.ok(!remaining.includes(p));
  });

  it('answers hostile identity bodies with ARM errors and writes nothing', async () => {
    const real = await createIdentity('hostile', 'real');
    const existing = await s.arm(s.armAdmin, 'PUT', `${vmId('hostile', 'kept')}?${CV}`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    assert.equal(existing.status, 201);
    const ghost = identityId('hostile', 'ghost');
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [identityId('hostile', `n${i}`), {}]));
    type Case = [label: string, identity: unknown, code: string, status?: number];
    const cases: Case[] = [
      ['identity a string', 'SystemAssigned', 'InvalidIdentityValues'],
      ['identity an array', [{ type: 'SystemAssigned' }], 'InvalidIdentityValues'],
      ['no type', { userAssignedIdentities: { [real.id]: {} } }, 'InvalidIdentityType'],
      ['type a number', { type: 1 }, 'InvalidIdentityType'],
      ['unknown type', { type: 'ServiceAssigned' }, 'InvalidIdentityType'],
      ['None with another type', { type: 'None, SystemAssigned' }, 'InvalidIdentityType'],
      ['a type twice', { type: 'SystemAssigned, SystemAssigned' }, 'InvalidIdentityType'],
      ['oversized type', { type: 'SystemAssigned'.repeat(100) }, 'InvalidIdentityType'],
      ['unknown identity property', { type: 'SystemAssigned', secretKey: 'x' }, 'InvalidIdentityValues'],
      ['userAssignedIdentities an array', { type: 'UserAssigned', userAssignedIdentities: [real.id] }, 'InvalidIdentityValues'],
      ['identities without UserAssigned', { type: 'SystemAssigned', userAssignedIdentities: { [real.id]: {} } }, 'InvalidIdentityValues'],
      ['UserAssigned without identities', { type: 'UserAssigned' }, 'InvalidIdentityValues'],
      ['key not a resource id', { type: 'UserAssigned', userAssignedIdentities: { real: {} } }, 'InvalidIdentityValues'],
      ['key the id of a machine', { type: 'UserAssigned', userAssignedIdentities: { [vmId('hostile', 'kept')]: {} } }, 'InvalidIdentityValues'],
      ['key with ..', { type: 'UserAssigned', userAssignedIdentities: { [`${sub}/resourceGroups/hostile/../ids/providers/${UAI}/x`]: {} } }, 'InvalidIdentityValues'],
      ['key a child of an identity', { type: 'UserAssigned', userAssignedIdentities: { [`${real.id}/federatedIdentityCredentials/x`]: {} } }, 'InvalidIdentityValues'],
      ['value with other properties', { type: 'UserAssigned', userAssignedIdentities: { [real.id]: { clientSecret: 'x' } } }, 'InvalidIdentityValues'],
      ['value a string', { type: 'UserAssigned', userAssignedIdentities: { [real.id]: 'attach' } }, 'InvalidIdentityValues'],
      ['101 identities', { type: 'UserAssigned', userAssignedIdentities: many }, 'InvalidIdentityValues'],
      ['an identity that does not exist', { type: 'UserAssigned', userAssignedIdentities: { [ghost]: {} } }, 'FailedIdentityOperation'],
      ['one real, one missing', { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [real.id]: {}, [ghost]: {} } }, 'FailedIdentityOperation'],
      // ARM's rule: no permission at a scope answers 403 whether or not the scope exists.
      ['an identity in a subscription the caller has no role in', { type: 'UserAssigned', userAssignedIdentities: { [`/subscriptions/${randomUUID()}/resourceGroups/x/providers/${UAI}/y`]: {} } }, 'LinkedAuthorizationFailed', 403],
    ];
    const principalsBefore = await managedPrincipals();
    const resourcesBefore = (await s.arm(s.armAdmin, 'GET', `${sub}/resourceGroups/hostile/resources?${RV}`)).body.value;
    for (const [label, identity, code, status = 400] of cases) {
      for (const target of [vmId('hostile', 'new-vm'), vmId('hostile', 'new-pool', 'virtualMachineScaleSets'), vmId('hostile', 'kept')]) {
        const answer = await s.arm(s.armAdmin, 'PUT', `${target}?${CV}`, { location: 'westeurope', identity });
        try {
          expectArmError(answer, status, code);
        } catch (err) {
          throw new Error(`${label} (${target}): ${(err as Error).message}`);
        }
      }
      const patched = await s.arm(s.armAdmin, 'PATCH', `${vmId('hostile', 'kept')}?${CV}`, { identity });
      assert.equal(patched.status, status, `${label} (PATCH): ${patched.text}`);
    }
    // A user-assigned identity has no identity of its own.
    expectArmError(await s.arm(s.armAdmin, 'PUT', `${real.id}?${MV}`, { location: 'westeurope', identity: { type: 'SystemAssigned' } }), 400, 'InvalidIdentityType');
    assert.deepEqual(await managedPrincipals(), principalsBefore);
    assert.deepEqual((await s.arm(s.armAdmin, 'GET', `${sub}/resourceGroups/hostile/resources?${RV}`)).body.value, resourcesBefore);
    const kept = await s.arm(s.armAdmin, 'GET', `${vmId('hostile', 'kept')}?${CV}`);
    assert.equal(kept.body.etag, existing.body.etag);
    assert.deepEqual(kept.body.identity, existing.body.identity);
  });

  describe('with the Azure CLI (Debian azure-cli 2.45) against Keyhaven as a custom cloud', () => {
    let work: string;
    let az: (...args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'kh-az-identities-'));
      const env = cleanEnv({ AZURE_CONFIG_DIR: join(work, 'az'), REQUESTS_CA_BUNDLE: TEST_CA_CERT, AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_NO_COLOR: 'true' });
      az = (...args: string[]) => new Promise((resolve) => {
        execFile('/usr/bin/az', [...args, '--only-show-errors'], { env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024, cwd: ROOT }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
        });
      });
      // A pipeline's service principal, Owner of the subscription, signs in.
      pipeline = await createServicePrincipal(s.t, s.admin, 'az-pipeline');
      await assign(sub, OWNER, pipeline.servicePrincipalId, 'ServicePrincipal');
      await useCloud('Keyhaven');
      assert.equal((await az('group', 'create', '-n', 'az-ml', '-l', 'westeurope')).code, 0);
      // What a runbook does right after `az login --service-principal`: show the account, list groups.
      const shown = await az('account', 'show');
      assert.equal(shown.code, 0, shown.stderr);
      const account = JSON.parse(shown.stdout) as { id: string; tenantId: string; user: { name: string; type: string } };
      assert.equal(account.id, s.subscriptionId);
      assert.equal(account.tenantId, s.t.tenantId);
      assert.deepEqual(account.user, { name: pipeline.appId, type: 'servicePrincipal' });
      const groups = await az('group', 'list', '--query', '[].name');
      assert.equal(groups.code, 0, groups.stderr);
      assert.ok((JSON.parse(groups.stdout) as string[]).includes('az-ml'), groups.stdout);
    });
    let pipeline: Awaited<ReturnType<typeof createServicePrincipal>>;
    /** Registers Keyhaven as a custom cloud (with an API profile), selects it and signs in. */
    const useCloud = async (name: string, profile?: string) => {
      const port = new URL(s.t.url).port;
      const register = await az('cloud', 'register', '--name', name,
        ...(profile ? ['--profile', profile] : []),
        '--endpoint-active-directory', `${s.t.url}/adfs`,
        '--endpoint-active-directory-resource-id', `${s.t.url}/`,
        '--endpoint-resource-manager', `${s.t.url}/`,
        '--endpoint-management', `${s.t.url}/`,
        '--endpoint-active-directory-graph-resource-id', `${s.t.url}/graph/`,
        '--suffix-keyvault-dns', `.vault.localhost:${port}`);
      assert.equal(register.code, 0, register.stderr);
      assert.equal((await az('cloud', 'set', '--name', name)).code, 0);
      const login = await az('login', '--service-principal', '--username', pipeline.appId, `--password=${pipeline.secret}`, '--tenant', s.t.tenantId); // = : a secret may start with '-'
      assert.equal(login.code, 0, login.stderr);
    };
    after(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('az identity create, show, list and delete', async () => {
      const created = await az('identity', 'create', '-g', 'az-ml', '-n', 'az-trainer');
      assert.equal(created.code, 0, created.stderr);
      const identity = JSON.parse(created.stdout) as Json;
      assert.equal(identity.name, 'az-trainer');
      assert.equal(identity.type, UAI);
      assert.equal(identity.resourceGroup, 'az-ml');
      assert.equal(identity.tenantId, s.t.tenantId);
      const principal = await sp(identity.principalId);
      assert.equal(principal.body.appId, identity.clientId);
      const shown = await az('identity', 'show', '-g', 'az-ml', '-n', 'az-trainer', '--query', 'principalId', '-o', 'tsv');
      assert.equal(shown.stdout.trim(), identity.principalId);
      const listed = await az('identity', 'list', '-g', 'az-ml', '--query', '[].name', '-o', 'tsv');
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), 'az-trainer');
      const deleted = await az('identity', 'delete', '-g', 'az-ml', '-n', 'az-trainer');
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal((await sp(identity.principalId)).status, 404);
      const missing = await az('identity', 'show', '-g', 'az-ml', '-n', 'az-trainer');
      assert.equal(missing.code, 3, missing.stderr);
    });

    it('az vm identity assign (system- and user-assigned) and az resource list --query [*].identity.principalId', async () => {
      // Debian's azure-cli 2.45 ships azure-mgmt-compute without the 2022-11-01 models its
      // 'latest' profile asks for virtual machines; Azure Stack Hub's 2020-09-01-hybrid profile
      // (compute 2020-06-01, managed identities 2018-11-30, resources 2019-10-01) it has.
      await useCloud('KeyhavenHybrid', '2020-09-01-hybrid');
      const uai = JSON.parse((await az('identity', 'create', '-g', 'az-ml', '-n', 'az-reader')).stdout) as Json;
      const vm = vmId('az-ml', 'az-vm');
      assert.equal((await s.arm(s.armAdmin, 'PUT', `${vm}?${CV}`, { location: 'westeurope', properties: { hardwareProfile: { vmSize: 'Standard_DS1_v2' } } })).status, 201);
      const system = await az('vm', 'identity', 'assign', '-g', 'az-ml', '-n', 'az-vm');
      assert.equal(system.code, 0, system.stderr);
      const systemInfo = JSON.parse(system.stdout) as Json;
      assert.match(systemInfo.systemAssignedIdentity, /^[0-9a-f-]{36}$/);
      assert.equal((await sp(systemInfo.systemAssignedIdentity)).body.servicePrincipalType, 'ManagedIdentity');
      const user = await az('vm', 'identity', 'assign', '-g', 'az-ml', '-n', 'az-vm', '--identities', uai.id);
      assert.equal(user.code, 0, user.stderr);
      const both = await s.arm(s.armAdmin, 'GET', `${vm}?${CV}`);
      assert.equal(both.body.identity.type, 'SystemAssigned, UserAssigned');
      assert.equal(both.body.identity.principalId, systemInfo.systemAssignedIdentity);
      assert.deepEqual(Object.values(both.body.identity.userAssignedIdentities), [{ principalId: uai.principalId, clientId: uai.clientId }]);
      const listed = await az('resource', 'list', '-n', 'az-vm', '--query', '[*].identity.principalId', '-o', 'tsv');
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), systemInfo.systemAssignedIdentity);
      const removed = await az('vm', 'identity', 'remove', '-g', 'az-ml', '-n', 'az-vm', '--identities', uai.id);
      assert.equal(removed.code, 0, removed.stderr);
      const after = await s.arm(s.armAdmin, 'GET', `${vm}?${CV}`);
      assert.equal(after.body.identity.type, 'SystemAssigned');
      assert.equal(after.body.identity.principalId, systemInfo.systemAssignedIdentity);
    });
  });
});
