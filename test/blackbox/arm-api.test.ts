// The management plane on a live server, driven as the Azure CLI and SDKs drive it: what az
// reads after login (GET /subscriptions, /tenants, /metadata/endpoints), resource groups and a
// provider's resources with ARM's shapes, ETags, nextLink paging and $filter, deletes as ARM
// answers them, and 401 without a token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Json } from './graph-test-client.js';
import { expectArmError, startArmSuite, type ArmSuite } from './arm-test-client.js';

const RV = 'api-version=2021-04-01';
const CV = 'api-version=2022-11-01';

describe('management API (ARM-shaped)', () => {
  let s: ArmSuite;
  before(async () => {
    s = await startArmSuite();
  });
  after(async () => {
    await s?.stop();
  });

  it('lists the default subscription and the tenant in the shapes az login and az account show read', async () => {
    for (const v of ['2016-06-01', '2019-11-01', '2022-12-01']) {
      const subs = await s.arm(s.armAdmin, 'GET', `/subscriptions?api-version=${v}`);
      assert.equal(subs.status, 200, subs.text);
      assert.equal(subs.body.value.length, 1);
      const sub = subs.body.value[0] as Json;
      assert.match(sub.subscriptionId, /^[0-9a-f-]{36}$/);
      assert.equal(sub.id, `/subscriptions/${sub.subscriptionId}`);
      assert.equal(sub.tenantId, s.t.tenantId);
      assert.equal(sub.homeTenantId, s.t.tenantId);
      assert.equal(sub.state, 'Enabled');
      assert.equal(typeof sub.displayName, 'string');
      assert.deepEqual(sub.managedByTenants, []);
    }
    const one = await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}?api-version=2019-11-01`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.subscriptionId, s.subscriptionId);
    const tenants = await s.arm(s.armAdmin, 'GET', '/tenants?api-version=2019-11-01');
    assert.equal(tenants.status, 200, tenants.text);
    assert.equal(tenants.body.value[0].tenantId, s.t.tenantId);
    assert.equal(tenants.body.value[0].id, `/tenants/${s.t.tenantId}`);
  });

  it('answers /metadata/endpoints?api-version=2015-01-01 with the ADFS login endpoint and the management audience', async () => {
    const res = await fetch(`${s.t.url}/metadata/endpoints?api-version=2015-01-01`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    assert.equal(body.authentication.loginEndpoint, `${s.publicUrl}/adfs`);
    assert.equal(body.authentication.audiences[0], `${s.publicUrl}/`);
    assert.equal(body.suffixes.keyVaultDns, '.vault.localhost');
  });

  it('answers 401 AuthenticationFailed with a bearer challenge without a token, and for a directory-audience token', async () => {
    const none = await s.arm(undefined, 'GET', `/subscriptions?${RV}`);
    expectArmError(none, 401, 'AuthenticationFailed');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer authorization_uri="/);
    expectArmError(await s.arm(undefined, 'GET', `/subscriptions/${s.subscriptionId}/resourcegroups/x?${RV}`), 401, 'AuthenticationFailed');
    expectArmError(await s.arm(s.admin, 'GET', `/subscriptions?api-version=2019-11-01`), 401, 'InvalidAuthenticationTokenAudience');
  });

  it('creates, reads, updates, lists and deletes resource groups and resources with ETags and systemData', async () => {
    const rg = `/subscriptions/${s.subscriptionId}/resourceGroups/ml-team`;
    const created = await s.arm(s.armAdmin, 'PUT', `${rg}?${RV}`, { location: 'West Europe', tags: { team: 'ml' } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body, { id: rg, name: 'ml-team', type: 'Microsoft.Resources/resourceGroups', location: 'westeurope', tags: { team: 'ml' }, properties: { provisioningState: 'Succeeded' } });
    assert.equal((await s.arm(s.armAdmin, 'PUT', `${rg}?${RV}`, { location: 'westeurope' })).status, 200);
    expectArmError(await s.arm(s.armAdmin, 'PUT', `${rg}?${RV}`, { location: 'eastus' }), 409, 'InvalidResourceGroupLocation');
    const head = await s.arm(s.armAdmin, 'HEAD', `${rg}?${RV}`);
    assert.equal(head.status, 204);
    assert.equal((await s.arm(s.armAdmin, 'HEAD', `/subscriptions/${s.subscriptionId}/resourceGroups/nope?${RV}`)).status, 404);

    const vmId = `${rg}/providers/Microsoft.Compute/virtualMachines/gpu-01`;
    const vm = await s.arm(s.armAdmin, 'PUT', `${vmId}?${CV}`, { location: 'westeurope', properties: { hardwareProfile: { vmSize: 'Standard_NC6' } } });
    assert.equal(vm.status, 201, vm.text);
    assert.equal(vm.body.id, vmId);
    assert.equal(vm.body.type, 'Microsoft.Compute/virtualMachines');
    assert.equal(vm.body.properties.provisioningState, 'Succeeded');
    assert.equal(vm.body.systemData.createdBy, 'admin@' + (await s.arm(s.armAdmin, 'GET', `/tenants?${'api-version=2019-11-01'}`)).body.value[0].defaultDomain);
    assert.equal(vm.body.systemData.createdByType, 'User');
    const etag = vm.headers.get('etag')!;
    assert.equal(vm.body.etag, etag);
    // If-Match with a stale etag is refused and changes nothing.
    const updated = await s.arm(s.armAdmin, 'PUT', `${vmId}?${CV}`, { location: 'westeurope', tags: { a: 'b' }, properties: {} }, { 'if-match': etag });
    assert.equal(updated.status, 200, updated.text);
    expectArmError(await s.arm(s.armAdmin, 'PUT', `${vmId}?${CV}`, { location: 'westeurope', properties: {} }, { 'if-match': etag }), 412, 'PreconditionFailed');
    const patched = await s.arm(s.armAdmin, 'PATCH', `${vmId}?${CV}`, { tags: { env: 'prod' } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.tags, { env: 'prod' });
    const got = await s.arm(s.armAdmin, 'GET', `${vmId}?${CV}`);
    assert.deepEqual(got.body.tags, { env: 'prod' });

    // Listings: $filter on name and resourceType, as az resource list -n/--resource-type sends them.
    const byName = await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/resources?$filter=${encodeURIComponent("name eq 'gpu-01'")}&${RV}`);
    assert.equal(byName.status, 200, byName.text);
    assert.deepEqual(byName.body.value.map((r: Json) => r.id), [vmId]);
    const byType = await s.arm(s.armAdmin, 'GET', `${rg}/resources?$filter=${encodeURIComponent("resourceType eq 'Microsoft.Compute/virtualMachineScaleSets'")}&${RV}`);
    assert.deepEqual(byType.body.value, []);
    const groups = await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/resourcegroups?${RV}`);
    assert.deepEqual(groups.body.value.map((g: Json) => g.name), ['ml-team']);

    // Deleting the group deletes what is in it; a second delete of the resource is 204.
    const del = await s.arm(s.armAdmin, 'DELETE', `${rg}?${RV}`);
    assert.equal(del.status, 200, del.text);
    expectArmError(await s.arm(s.armAdmin, 'GET', `${vmId}?${CV}`), 404, 'ResourceGroupNotFound');
    expectArmError(await s.arm(s.armAdmin, 'GET', `${rg}?${RV}`), 404, 'ResourceGroupNotFound');
  });

  it('pages listings with nextLink', async () => {
    const rg = `/subscriptions/${s.subscriptionId}/resourceGroups/paged`;
    assert.equal((await s.arm(s.armAdmin, 'PUT', `${rg}?${RV}`, { location: 'westeurope' })).status, 201);
    for (let i = 0; i < 7; i++) {
      const r = await s.arm(s.armAdmin, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/pool-${i}?${CV}`, { location: 'westeurope', properties: {} });
      assert.equal(r.status, 201, r.text);
    }
    const names: string[] = [];
    let url: string | undefined = `${rg}/resources?${RV}&$top=3`;
    let pages = 0;
    while (url) {
      const page = await s.arm(s.armAdmin, 'GET', url);
      assert.equal(page.status, 200, page.text);
      names.push(...page.body.value.map((r: Json) => r.name as string));
      url = page.body.nextLink as string | undefined;
      if (url) assert.ok(url.startsWith(`${s.publicUrl}/`), url);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `pool-${i}`));
  });

  it('refuses unknown api-versions as ARM does, naming the supported ones', async () => {
    expectArmError(await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/resourcegroups?api-version=2099-01-01`), 400, 'InvalidApiVersionParameter', /supported versions are '.*2021-04-01/);
    expectArmError(
      await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/resourceGroups/x/providers/Microsoft.Compute/virtualMachines/y?api-version=2099-01-01`),
      400,
      'NoRegisteredProviderFound',
      /2022-11-01/,
    );
    expectArmError(await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/resourcegroups`), 400, 'MissingApiVersionParameter');
  });
});
