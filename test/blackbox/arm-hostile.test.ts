// Hostile requests to the management API, each answered with ARM's error (status, code,
// `{"error":{"code","message","details"}}`) and none writing anything: the resource tree, the
// role assignments and the custom roles are the same after the table as before it. Requests
// are sent with node:https so that `..`, encoded slashes and the like reach the server as
// written (fetch would normalize the path first).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createUser, type Answer, type Json } from './graph-test-client.js';
import { expectArmError, startArmSuite, type ArmSuite } from './arm-test-client.js';

const RV = 'api-version=2021-04-01';
const CV = 'api-version=2022-11-01';
const AV = 'api-version=2022-04-01';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

function raw(base: string, token: string | undefined, method: string, path: string, body?: string | Buffer, contentType = 'application/json'): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }) },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: Json = {};
          try {
            parsed = text ? (JSON.parse(text) as Json) : {};
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('hostile management requests', () => {
  let s: ArmSuite;
  let sub: string;
  let rg: string;
  let vm: string;
  let reader: string;
  let bobId: string;
  let assignment: string;

  async function state(): Promise<unknown> {
    const get = async (p: string) => {
      const r = await s.arm(s.armAdmin, 'GET', p);
      assert.equal(r.status, 200, r.text);
      return r.body.value;
    };
    return {
      groups: await get(`${sub}/resourcegroups?${RV}`),
      resources: await get(`${sub}/resources?${RV}`),
      vm: (await s.arm(s.armAdmin, 'GET', `${vm}?${CV}`)).body,
      assignments: await get(`${sub}/providers/Microsoft.Authorization/roleAssignments?${AV}`),
      custom: await get(`${sub}/providers/Microsoft.Authorization/roleDefinitions?${AV}&$filter=${encodeURIComponent("type eq 'CustomRole'")}`),
    };
  }

  before(async () => {
    s = await startArmSuite();
    sub = `/subscriptions/${s.subscriptionId}`;
    rg = `${sub}/resourceGroups/fixed`;
    vm = `${rg}/providers/Microsoft.Compute/virtualMachines/vm1`;
    assert.equal((await s.arm(s.armAdmin, 'PUT', `${rg}?${RV}`, { location: 'westeurope' })).status, 201);
    assert.equal((await s.arm(s.armAdmin, 'PUT', `${vm}?${CV}`, { location: 'westeurope', properties: { note: 'original' } })).status, 201);
    bobId = await createUser(s, 'bob', 'Granite-willow-sunrise-34');
    assignment = randomUUID();
    const a = await s.arm(s.armAdmin, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${assignment}?${AV}`, {
      properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: bobId },
    });
    assert.equal(a.status, 201, a.text);
    reader = await s.armToken('bob', 'Granite-willow-sunrise-34');
  });
  after(async () => {
    await s?.stop();
  });

  it('answers each with ARM\'s error and writes nothing', async () => {
    const before = await state();
    const vmBody = (extra: Json = {}) => JSON.stringify({ location: 'westeurope', properties: {}, ...extra });
    const ra = (extra: Json) => JSON.stringify({ properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: bobId, ...extra } });
    const other = randomUUID();
    const tags51 = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    type Case = [label: string, token: string | undefined, method: string, path: string, body: string | Buffer | undefined, status: number, code: string, contentType?: string];
    const A = s.armAdmin;
    const cases: Case[] = [
      ['unknown api-version (read)', A, 'GET', `${rg}?api-version=2099-01-01`, undefined, 400, 'InvalidApiVersionParameter'],
      ['unknown api-version (write)', A, 'PUT', `${sub}/resourceGroups/newrg?api-version=2099-01-01`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidApiVersionParameter'],
      ['no api-version', A, 'PUT', `${sub}/resourceGroups/newrg`, JSON.stringify({ location: 'westeurope' }), 400, 'MissingApiVersionParameter'],
      ['api-version twice', A, 'PUT', `${sub}/resourceGroups/newrg?${RV}&${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidApiVersionParameter'],
      ['provider api-version unknown', A, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/vm2?api-version=2015-01-01`, vmBody(), 400, 'NoRegisteredProviderFound'],
      ['role assignment api-version unknown', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2099-01-01`, ra({}), 400, 'NoRegisteredProviderFound'],
      ['dot-dot segment', A, 'PUT', `${sub}/resourceGroups/../resourceGroups/evil?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceId'],
      ['encoded dot-dot', A, 'DELETE', `${sub}/resourceGroups/%2e%2e?${RV}`, undefined, 400, 'InvalidResourceId'],
      ['encoded slash', A, 'PUT', `${sub}/resourceGroups/fixed%2Fproviders?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceId'],
      ['encoded backslash', A, 'PUT', `${sub}/resourceGroups/a%5Cb?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceId'],
      ['encoded NUL', A, 'PUT', `${sub}/resourceGroups/a%00b?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceId'],
      ['empty segment', A, 'PUT', `${sub}//resourceGroups/x?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceId'],
      ['subscription id not a GUID', A, 'PUT', `/subscriptions/not-a-guid/resourceGroups/x?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidSubscriptionId'],
      ['group name too long', A, 'PUT', `${sub}/resourceGroups/${'a'.repeat(91)}?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceGroupName'],
      ['group name ending in a period', A, 'PUT', `${sub}/resourceGroups/rg.?${RV}`, JSON.stringify({ location: 'westeurope' }), 400, 'InvalidResourceGroupName'],
      ['resource name with <', A, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/a%3Cb?${CV}`, vmBody(), 400, 'InvalidResourceName'],
      ['unknown namespace', A, 'PUT', `${rg}/providers/Microsoft.Bogus/things/x?${CV}`, vmBody(), 400, 'InvalidResourceNamespace'],
      ['unknown type', A, 'PUT', `${rg}/providers/Microsoft.Compute/bogus/x?${CV}`, vmBody(), 400, 'InvalidResourceType'],
      ['oversized body', A, 'PUT', `${vm}?${CV}`, JSON.stringify({ location: 'westeurope', properties: { blob: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'RequestEntityTooLarge'],
      ['invalid JSON', A, 'PUT', `${vm}?${CV}`, '{"location": "westeurope",', 400, 'InvalidRequestContent'],
      ['body an array', A, 'PUT', `${vm}?${CV}`, '[]', 400, 'InvalidRequestContent'],
      ['body a string', A, 'PUT', `${vm}?${CV}`, '"westeurope"', 400, 'InvalidRequestContent'],
      ['text/plain body', A, 'PUT', `${vm}?${CV}`, vmBody(), 415, 'UnsupportedMediaType', 'text/plain'],
      ['no location', A, 'PUT', `${sub}/resourceGroups/newrg?${RV}`, JSON.stringify({ tags: {} }), 400, 'LocationRequired'],
      ['location a number', A, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/vm2?${CV}`, JSON.stringify({ location: 42 }), 400, 'LocationRequired'],
      ['location changed', A, 'PUT', `${vm}?${CV}`, JSON.stringify({ location: 'eastus', properties: {} }), 409, 'InvalidResourceLocation'],
      ['group location changed', A, 'PUT', `${rg}?${RV}`, JSON.stringify({ location: 'eastus' }), 409, 'InvalidResourceGroupLocation'],
      ['tags an array', A, 'PUT', `${vm}?${CV}`, vmBody({ tags: ['a'] }), 400, 'InvalidTag'],
      ['tag value a number', A, 'PUT', `${vm}?${CV}`, vmBody({ tags: { a: 1 } }), 400, 'InvalidTag'],
      ['51 tags', A, 'PUT', `${vm}?${CV}`, vmBody({ tags: tags51 }), 400, 'InvalidTag'],
      ['PUT changing the type', A, 'PUT', `${vm}?${CV}`, vmBody({ type: 'Microsoft.Compute/virtualMachineScaleSets' }), 400, 'InvalidRequestContent'],
      ["PUT with another subscription's id", A, 'PUT', `${vm}?${CV}`, vmBody({ id: vm.replace(s.subscriptionId, other) }), 400, 'InvalidRequestContent'],
      ["PUT with another group's id", A, 'PUT', `${vm}?${CV}`, vmBody({ id: vm.replace('/fixed/', '/other/') }), 400, 'InvalidRequestContent'],
      ['PUT renaming', A, 'PUT', `${vm}?${CV}`, vmBody({ name: 'vm9' }), 400, 'InvalidRequestContent'],
      ['properties a string', A, 'PUT', `${vm}?${CV}`, JSON.stringify({ location: 'westeurope', properties: 'x' }), 400, 'InvalidRequestContent'],
      ['identity of an unknown type', A, 'PUT', `${vm}?${CV}`, vmBody({ identity: { type: 'Everything' } }), 400, 'InvalidIdentityType'],
      ['identity attaching one that does not exist', A, 'PUT', `${vm}?${CV}`, vmBody({ identity: { type: 'UserAssigned', userAssignedIdentities: { [`${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost`]: {} } } }), 400, 'FailedIdentityOperation'],
      ['stale If-Match', A, 'PUT', `${vm}?${CV}`, vmBody(), 412, 'PreconditionFailed'],
      ['reader writing', reader, 'PUT', `${vm}?${CV}`, vmBody({ tags: { by: 'bob' } }), 403, 'AuthorizationFailed'],
      ['reader deleting the group', reader, 'DELETE', `${rg}?${RV}`, undefined, 403, 'AuthorizationFailed'],
      ['reader granting itself Owner', reader, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, JSON.stringify({ properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`, principalId: bobId } }), 403, 'AuthorizationFailed'],
      ['reader deleting its own assignment', reader, 'DELETE', `${rg}/providers/Microsoft.Authorization/roleAssignments/${assignment}?${AV}`, undefined, 403, 'AuthorizationFailed'],
      ['role assignment scope of another subscription', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, ra({ scope: `/subscriptions/${other}` }), 400, 'InvalidCreateRoleAssignmentRequest'],
      ['role assignment without properties', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, JSON.stringify({ roleDefinitionId: READER }), 400, 'InvalidRequestContent'],
      ['role assignment principalId not a GUID', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, ra({ principalId: 'bob' }), 400, 'InvalidPrincipalId'],
      ['role assignment to nobody', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, ra({ principalId: randomUUID() }), 400, 'PrincipalNotFound'],
      ['role assignment name reused', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${assignment}?${AV}`, ra({ roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c` }), 409, 'RoleAssignmentUpdateNotPermitted'],
      ['role assignment roleDefinitionId a path elsewhere', A, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, ra({ roleDefinitionId: `${sub}/resourceGroups/x/${READER}` }), 400, 'InvalidRoleDefinitionId'],
      ['role assignment at a missing group', A, 'PUT', `${sub}/resourceGroups/ghost/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, ra({}), 404, 'ResourceGroupNotFound'],
      ['custom role assignable at /', A, 'PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}?${AV}`, JSON.stringify({ properties: { roleName: 'Root', assignableScopes: ['/'], permissions: [{ actions: ['*'] }] } }), 400, 'InvalidRoleDefinition'],
      ['custom role with a malformed action', A, 'PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}?${AV}`, JSON.stringify({ properties: { roleName: 'Bad', assignableScopes: [sub], permissions: [{ actions: ['not an action!'] }] } }), 400, 'InvalidRoleDefinition'],
      ['custom role named like a built-in', A, 'PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}?${AV}`, JSON.stringify({ properties: { roleName: 'owner', assignableScopes: [sub], permissions: [{ actions: ['*'] }] } }), 409, 'RoleDefinitionWithSameNameExists'],
      ['overwriting a built-in role', A, 'PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}?${AV}`, JSON.stringify({ properties: { roleName: 'Reader2', assignableScopes: [sub], permissions: [{ actions: ['*'] }] } }), 400, 'RoleDefinitionIsBuiltIn'],
      ['unsupported $filter', A, 'GET', `${sub}/resources?${RV}&$filter=${encodeURIComponent("location eq 'x'")}`, undefined, 400, 'InvalidFilterInQueryString'],
      ['$top of 0', A, 'GET', `${sub}/resources?${RV}&$top=0`, undefined, 400, 'InvalidQueryParameterValue'],
      ['forged $skiptoken', A, 'GET', `${sub}/resources?${RV}&$skiptoken=${Buffer.from(`/subscriptions/${other}/x`).toString('base64url')}`, undefined, 400, 'InvalidQueryParameterValue'],
      ['POST on a group', A, 'POST', `${rg}?${RV}`, JSON.stringify({}), 405, 'MethodNotAllowed'],
      ['garbage token', 'not.a.token', 'PUT', `${sub}/resourceGroups/newrg?${RV}`, JSON.stringify({ location: 'westeurope' }), 401, 'AuthenticationFailed'],
      ['no token', undefined, 'DELETE', `${rg}?${RV}`, undefined, 401, 'AuthenticationFailed'],
    ];
    assert.ok(cases.length >= 30);
    const staleEtag = '"00000000-0000-0000-0000-000000000000"';
    for (const [label, token, method, path, body, status, code, contentType] of cases) {
      const answer = label === 'stale If-Match'
        ? await s.arm(A, method, path, body?.toString(), { 'if-match': staleEtag })
        : await raw(s.t.url, token, method, path, body, contentType);
      try {
        expectArmError(answer, status, code);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(await state(), before);
  });
});
