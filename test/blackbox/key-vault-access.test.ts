// Who may touch a vault's secrets, and what bad input gets, on a live server:
//   - access policies: get+set allows get and set and refuses list (403 ForbiddenByPolicy);
//     a policy for a group reaches its members transitively (a user in a nested group); a
//     removed policy stops access on the next request; Owner of the subscription reads nothing;
//   - RBAC mode: Key Vault Secrets User reads but does not set, Secrets Officer sets, a
//     principal with no role gets 403 ForbiddenByRbac;
//   - disabled / not-yet-valid / expired versions: 403 as Azure; purge under purge protection: 403;
//   - the bad-input table (names with /, .., unicode, 128 characters; a 25 KB + 1 value;
//     malformed JSON; unknown api-version; wrong content type …): each Key Vault's error, nothing stored;
//   - the vault resource: name rules, uniqueness in the deployment, retention 7–90, purge
//     protection that cannot be turned off, soft-deleted vaults that block the name until recovered;
//   - afterwards no value in the database files.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createServicePrincipal, userToken, type ServicePrincipalFixture } from '../helpers/tenant-fixtures.js';
import { expectArmError } from './arm-test-client.js';
import { createUser } from './graph-test-client.js';
import { assertNotStored, expectVaultError, startVaultSuite, type VaultSuite } from './vault-test-client.js';

const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const SECRETS_OFFICER = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7';
const V = 'api-version=7.5';

describe('Key Vault authorization and bad input', () => {
  let s: VaultSuite;
  let reader: ServicePrincipalFixture;
  let officer: ServicePrincipalFixture;
  let nobody: ServicePrincipalFixture;
  const written: string[] = [];
  const value = () => {
    const v = `kv-${randomBytes(20).toString('hex')}`;
    written.push(v);
    return v;
  };
  const policy = (objectId: string, secrets: string[]) => ({ tenantId: s.t.tenantId, objectId, permissions: { secrets } });

  before(async () => {
    s = await startVaultSuite();
    reader = await createServicePrincipal(s.t, s.admin, 'kv-reader');
    officer = await createServicePrincipal(s.t, s.admin, 'kv-officer');
    nobody = await createServicePrincipal(s.t, s.admin, 'kv-nobody');
  });
  after(async () => {
    await s?.stop();
  });

  it('access policy get+set allows get and set and refuses list', async () => {
    assert.equal((await s.createVault('kh-policy', { accessPolicies: [policy(reader.servicePrincipalId, ['get', 'set'])] })).status, 201);
    const token = await s.vaultToken(reader.appId, reader.secret);
    const v = value();
    assert.equal((await s.kv(token, 'PUT', 'kh-policy', `/secrets/SQLPasswd?${V}`, { value: v })).status, 200);
    const got = await s.kv(token, 'GET', 'kh-policy', `/secrets/SQLPasswd?api-version=2016-10-01`, undefined, { form: 'path' });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.value, v);
    expectVaultError(await s.kv(token, 'GET', 'kh-policy', `/secrets?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
    expectVaultError(await s.kv(token, 'DELETE', 'kh-policy', `/secrets/SQLPasswd?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
    expectVaultError(await s.kv(token, 'GET', 'kh-policy', `/secrets/SQLPasswd/versions?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
    // Another principal, and the subscription's Owner (a control-plane role), get nothing.
    for (const t of [await s.vaultToken(nobody.appId, nobody.secret), await userToken(s.t, 'admin', s.t.adminPassword, `${s.vaultAudience}/.default`)]) {
      expectVaultError(await s.kv(t, 'GET', 'kh-policy', `/secrets/SQLPasswd?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
    }
    // The policy removed through ARM: refused on the next request.
    const put = await s.createVault('kh-policy', { accessPolicies: [] });
    assert.equal(put.status, 200, put.text);
    expectVaultError(await s.kv(token, 'GET', 'kh-policy', `/secrets/SQLPasswd?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
  });

  it('a policy for a group reaches members of nested groups', async () => {
    const pw = 'Granite-willow-sunrise-34';
    const carol = await createUser(s, 'carol', pw);
    const outer = (await s.call(s.admin, 'POST', '/groups', { displayName: 'kv-team', mailNickname: 'kv-team', securityEnabled: true })).body.id as string;
    const inner = (await s.call(s.admin, 'POST', '/groups', { displayName: 'kv-interns', mailNickname: 'kv-interns', securityEnabled: true })).body.id as string;
    for (const [g, m] of [[outer, inner], [inner, carol]] as const) {
      assert.equal((await s.call(s.admin, 'POST', `/groups/${g}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${m}` })).status, 204);
    }
    assert.equal((await s.createVault('kh-group', { accessPolicies: [policy(outer, ['get', 'list', 'set'])] })).status, 201);
    const token = await userToken(s.t, 'carol', pw, `${s.vaultAudience}/.default`);
    assert.equal((await s.kv(token, 'PUT', 'kh-group', `/secrets/shared?${V}`, { value: value() })).status, 200);
    assert.equal((await s.kv(token, 'GET', 'kh-group', `/secrets?${V}`)).status, 200);
    // Out of the inner group: refused on the next request, whatever the token's groups claim says.
    assert.equal((await s.call(s.admin, 'DELETE', `/groups/${inner}/members/${carol}/$ref`)).status, 204);
    expectVaultError(await s.kv(token, 'GET', 'kh-group', `/secrets/shared?${V}`), 403, 'Forbidden', 'ForbiddenByPolicy');
  });

  it('RBAC vault: Secrets User reads, cannot set; Secrets Officer sets; no role is 403', async () => {
    const created = await s.createVault('kh-rbac', { enableRbacAuthorization: true, accessPolicies: [policy(nobody.servicePrincipalId, ['all'])] });
    assert.equal(created.status, 201, created.text);
    const vaultId = created.body.id as string;
    const assign = async (scope: string, role: string, principalId: string) => {
      const res = await s.arm(s.armAdmin, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
        properties: { roleDefinitionId: `/subscriptions/${s.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' },
      });
      assert.equal(res.status, 201, res.text);
    };
    await assign(vaultId, SECRETS_OFFICER, officer.servicePrincipalId);
    await assign(vaultId, SECRETS_USER, reader.servicePrincipalId);
    const off = await s.vaultToken(officer.appId, officer.secret);
    const usr = await s.vaultToken(reader.appId, reader.secret);
    const none = await s.vaultToken(nobody.appId, nobody.secret);
    const v = value();
    assert.equal((await s.kv(off, 'PUT', 'kh-rbac', `/secrets/api-key?${V}`, { value: v })).status, 200);
    const got = await s.kv(usr, 'GET', 'kh-rbac', `/secrets/api-key?${V}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.value, v);
    assert.equal((await s.kv(usr, 'GET', 'kh-rbac', `/secrets?${V}`)).status, 200);
    expectVaultError(await s.kv(usr, 'PUT', 'kh-rbac', `/secrets/api-key?${V}`, { value: value() }), 403, 'Forbidden', 'ForbiddenByRbac');
    expectVaultError(await s.kv(usr, 'DELETE', 'kh-rbac', `/secrets/api-key?${V}`), 403, 'Forbidden', 'ForbiddenByRbac');
    // Access policies mean nothing on an RBAC vault.
    expectVaultError(await s.kv(none, 'GET', 'kh-rbac', `/secrets/api-key?${V}`), 403, 'Forbidden', 'ForbiddenByRbac');
  });

  it('disabled, not-yet-valid and expired versions are refused; purge protection holds', async () => {
    assert.equal((await s.createVault('kh-attrs', { enablePurgeProtection: true, softDeleteRetentionInDays: 7, accessPolicies: [policy(officer.servicePrincipalId, ['all'])] })).status, 201);
    const token = await s.vaultToken(officer.appId, officer.secret);
    const now = Math.floor(Date.now() / 1000);
    for (const [name, attributes, inner] of [
      ['off', { enabled: false }, 'SecretDisabled'],
      ['later', { nbf: now + 3600 }, 'SecretNotYetValid'],
      ['gone', { exp: now - 60 }, 'SecretExpired'],
    ] as const) {
      const set = await s.kv(token, 'PUT', 'kh-attrs', `/secrets/${name}?${V}`, { value: value(), attributes });
      assert.equal(set.status, 200, set.text);
      expectVaultError(await s.kv(token, 'GET', 'kh-attrs', `/secrets/${name}?${V}`), 403, 'Forbidden', inner);
    }
    // Enabled again through UpdateSecret: readable.
    const upd = await s.kv(token, 'PATCH', 'kh-attrs', `/secrets/off/?${V}`, { attributes: { enabled: true } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.value, undefined);
    assert.equal((await s.kv(token, 'GET', 'kh-attrs', `/secrets/off?${V}`)).status, 200);
    const del = await s.kv(token, 'DELETE', 'kh-attrs', `/secrets/off?${V}`);
    assert.equal(del.status, 200, del.text);
    assert.equal(del.body.scheduledPurgeDate - del.body.deletedDate, 7 * 86400);
    assert.equal(del.body.attributes.recoveryLevel, 'Recoverable');
    expectVaultError(await s.kv(token, 'DELETE', 'kh-attrs', `/deletedsecrets/off?${V}`), 403, 'Forbidden');
    assert.equal((await s.kv(token, 'GET', 'kh-attrs', `/deletedsecrets/off?${V}`)).status, 200);
  });

  it('bad input: each Key Vault error, nothing stored', async () => {
    assert.equal((await s.createVault('kh-hostile', { accessPolicies: [policy(officer.servicePrincipalId, ['all'])] })).status, 201);
    const token = await s.vaultToken(officer.appId, officer.secret);
    const ok = { value: value() };
    const cases: [string, string, string, unknown, Record<string, string> | undefined, number, string][] = [
      ['slash in name', 'PUT', `/secrets/a%2Fb?${V}`, ok, undefined, 400, 'BadParameter'],
      ['dot-dot name', 'PUT', `/secrets/..?${V}`, ok, undefined, 400, 'BadParameter'],
      ['encoded dot-dot', 'PUT', `/secrets/%2e%2e?${V}`, ok, undefined, 400, 'BadParameter'],
      ['unicode name', 'PUT', `/secrets/${encodeURIComponent('pässwort')}?${V}`, ok, undefined, 400, 'BadParameter'],
      ['underscore', 'PUT', `/secrets/a_b?${V}`, ok, undefined, 400, 'BadParameter'],
      ['128 characters', 'PUT', `/secrets/${'a'.repeat(128)}?${V}`, ok, undefined, 400, 'BadParameter'],
      ['25 KB + 1 value', 'PUT', `/secrets/big?${V}`, { value: 'x'.repeat(25 * 1024 + 1) }, undefined, 400, 'BadParameter'],
      ['25 KB + 1 bytes of UTF-8', 'PUT', `/secrets/big?${V}`, { value: `${'x'.repeat(25 * 1024 - 1)}é` }, undefined, 400, 'BadParameter'],
      ['malformed JSON', 'PUT', `/secrets/json?${V}`, '{"value": "abc"', undefined, 400, 'BadParameter'],
      ['value not a string', 'PUT', `/secrets/json?${V}`, { value: 42 }, undefined, 400, 'BadParameter'],
      ['no value', 'PUT', `/secrets/json?${V}`, { contentType: 'x' }, undefined, 400, 'BadParameter'],
      ['body an array', 'PUT', `/secrets/json?${V}`, [ok], undefined, 400, 'BadParameter'],
      ['unknown api-version', 'PUT', '/secrets/apiv?api-version=7.9', ok, undefined, 400, 'BadParameter'],
      ['no api-version', 'PUT', '/secrets/apiv', ok, undefined, 400, 'BadParameter'],
      ['api-version twice', 'PUT', `/secrets/apiv?${V}&${V}`, ok, undefined, 400, 'BadParameter'],
      ['wrong content type', 'PUT', `/secrets/ctype?${V}`, JSON.stringify(ok), { 'content-type': 'text/plain' }, 400, 'BadParameter'],
      ['form content type', 'PUT', `/secrets/ctype?${V}`, 'value=abc', { 'content-type': 'application/x-www-form-urlencoded' }, 400, 'BadParameter'],
      ['bad attributes', 'PUT', `/secrets/attrs?${V}`, { ...ok, attributes: { enabled: 'yes' } }, undefined, 400, 'BadParameter'],
      ['bad exp', 'PUT', `/secrets/attrs?${V}`, { ...ok, attributes: { exp: 'tomorrow' } }, undefined, 400, 'BadParameter'],
      ['too many tags', 'PUT', `/secrets/tags?${V}`, { ...ok, tags: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v'])) }, undefined, 400, 'BadParameter'],
      ['tag not a string', 'PUT', `/secrets/tags?${V}`, { ...ok, tags: { a: 1 } }, undefined, 400, 'BadParameter'],
      ['bad version', 'GET', `/secrets/x/not-a-version?${V}`, undefined, undefined, 400, 'BadParameter'],
      ['maxresults 26', 'GET', `/secrets?${V}&maxresults=26`, undefined, undefined, 400, 'BadParameter'],
      ['maxresults 0', 'GET', `/secrets?${V}&maxresults=0`, undefined, undefined, 400, 'BadParameter'],
      ['forged skiptoken', 'GET', `/secrets?${V}&$skiptoken=${Buffer.from('../x').toString('base64url')}`, undefined, undefined, 400, 'BadParameter'],
      ['restore garbage', 'POST', `/secrets/restore?${V}`, { value: Buffer.from('not a backup').toString('base64url') }, undefined, 400, 'BadParameter'],
      ['unknown collection', 'GET', `/keys?${V}`, undefined, undefined, 404, 'NotFound'],
      ['missing secret', 'GET', `/secrets/none?${V}`, undefined, undefined, 404, 'SecretNotFound'],
      ['missing version', 'GET', `/secrets/none/${'0'.repeat(32)}?${V}`, undefined, undefined, 404, 'SecretNotFound'],
      ['recover a live name', 'POST', `/deletedsecrets/none/recover?${V}`, undefined, undefined, 404, 'SecretNotFound'],
      ['method', 'POST', `/secrets/x?${V}`, ok, undefined, 405, 'MethodNotAllowed'],
    ];
    for (const [what, method, path, body, headers, status, code] of cases) {
      // fetch normalizes `..` and `%2e%2e` away: those go out as written, over node:https.
      const res = path.includes('..') || path.includes('%2e') ? await s.rawKv(token, method, 'kh-hostile', path, body) : await s.kv(token, method, 'kh-hostile', path, body, headers ? { headers } : {});
      assert.equal(res.status, status, `${what}: ${res.text}`);
      expectVaultError(res, status, code);
      assert.ok(!res.text.includes(ok.value), `${what}: the value is echoed`);
    }
    const list = await s.kv(token, 'GET', 'kh-hostile', `/secrets?${V}`);
    assert.deepEqual(list.body.value, [], 'nothing was stored');
    // Tokens: another audience, a garbled one, none — 401 with the challenge each time.
    const management = await s.appToken(officer.appId, officer.secret);
    for (const t of [management, `${token.slice(0, -4)}AAAA`, 'not-a-jwt']) {
      const res = await s.kv(t, 'GET', 'kh-hostile', `/secrets?${V}`);
      expectVaultError(res, 401, 'Unauthorized');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer authorization="/);
    }
    // A vault that does not exist, in either form.
    expectVaultError(await s.kv(token, 'GET', 'no-such-vault', `/secrets?${V}`), 404, 'VaultNotFound');
    expectVaultError(await s.kv(token, 'GET', 'no-such-vault', `/secrets?${V}`, undefined, { form: 'path' }), 404, 'VaultNotFound');
  });

  it('vault resources: names, uniqueness, retention, purge protection, soft delete and recovery', async () => {
    for (const name of ['ab', 'a'.repeat(25), '1abc', 'abc-', 'a--b', 'ab_c']) {
      expectArmError(await s.createVault(name), 400, 'VaultNameNotValid');
    }
    for (const properties of [{ softDeleteRetentionInDays: 6 }, { softDeleteRetentionInDays: 91 }, { enableSoftDelete: false }, { tenantId: randomUUID() }, { sku: { family: 'A', name: 'gold' } },
      { accessPolicies: [{ tenantId: s.t.tenantId, objectId: 'not-a-guid', permissions: { secrets: ['get'] } }] },
      { accessPolicies: [{ tenantId: s.t.tenantId, objectId: randomUUID(), permissions: { secrets: ['read'] } }] }]) {
      const res = await s.createVault('kh-badprops', properties);
      assert.equal(res.status, 400, `${JSON.stringify(properties)}: ${res.text}`);
    }
    assert.equal((await s.arm(s.armAdmin, 'GET', `${s.group}/providers/Microsoft.KeyVault/vaults/kh-badprops?api-version=2023-07-01`)).status, 404);
    const made = await s.createVault('kh-life', { enablePurgeProtection: true });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.properties.softDeleteRetentionInDays, 90);
    assert.equal(made.body.properties.enableSoftDelete, true);
    expectArmError(await s.createVault('kh-life', { enablePurgeProtection: false }), 400, 'BadRequest');
    expectArmError(await s.createVault('kh-life', { enablePurgeProtection: true, softDeleteRetentionInDays: 30 }), 400, 'BadRequest');
    // The same name in another resource group: taken (vault names are DNS labels).
    const otherGroup = `/subscriptions/${s.subscriptionId}/resourceGroups/kv-other`;
    assert.equal((await s.arm(s.armAdmin, 'PUT', `${otherGroup}?api-version=2021-04-01`, { location: 'westeurope' })).status, 201);
    const clash = await s.arm(s.armAdmin, 'PUT', `${otherGroup}/providers/Microsoft.KeyVault/vaults/KH-LIFE?api-version=2023-07-01`, { location: 'westeurope', properties: { tenantId: s.t.tenantId, sku: { family: 'A', name: 'standard' } } });
    expectArmError(clash, 409, 'VaultAlreadyExists');
    // Deleted: soft-deleted, the name blocked, recovered with its secrets.
    const ap = await s.createVault('kh-life', { enablePurgeProtection: true, accessPolicies: [policy(officer.servicePrincipalId, ['all'])] });
    assert.equal(ap.status, 200, ap.text);
    const token = await s.vaultToken(officer.appId, officer.secret);
    const v = value();
    assert.equal((await s.kv(token, 'PUT', 'kh-life', `/secrets/kept?${V}`, { value: v })).status, 200);
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${s.group}/providers/Microsoft.KeyVault/vaults/kh-life?api-version=2023-07-01`)).status, 200);
    expectVaultError(await s.kv(token, 'GET', 'kh-life', `/secrets/kept?${V}`), 404, 'VaultNotFound');
    expectArmError(await s.createVault('kh-life'), 409, 'ConflictError');
    // Recovered as it was deleted: its access policies and purge protection come back with it.
    const recovered = await s.createVault('kh-life', { createMode: 'recover' });
    assert.equal(recovered.status, 201, recovered.text);
    assert.equal(recovered.body.properties.createMode, undefined);
    assert.equal(recovered.body.properties.enablePurgeProtection, true);
    assert.equal(recovered.body.properties.accessPolicies[0].objectId, officer.servicePrincipalId);
    const again = await s.arm(s.armAdmin, 'GET', `${s.group}/providers/Microsoft.KeyVault/vaults/kh-life?api-version=2023-07-01`);
    assert.deepEqual(again.body.properties, recovered.body.properties);
    const got = await s.kv(token, 'GET', 'kh-life', `/secrets/kept?${V}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.value, v);
  });

  it('deleted vaults: listed, read, purged (not under purge protection), the name then free', async () => {
    const sub = `/subscriptions/${s.subscriptionId}`;
    const DV = 'api-version=2023-07-01';
    assert.equal((await s.createVault('kh-gone')).status, 201);
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${s.group}/providers/Microsoft.KeyVault/vaults/kh-gone?${DV}`)).status, 200);
    const list = await s.arm(s.armAdmin, 'GET', `${sub}/providers/Microsoft.KeyVault/deletedVaults?${DV}`);
    assert.equal(list.status, 200, list.text);
    const entry = (list.body.value as { name: string; id: string; properties: Record<string, unknown> }[]).find((v) => v.name === 'kh-gone');
    assert.ok(entry, list.text);
    assert.equal(entry.properties.vaultId, `${s.group}/providers/Microsoft.KeyVault/vaults/kh-gone`);
    assert.equal(entry.id, `${sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kh-gone`);
    assert.equal((await s.arm(s.armAdmin, 'GET', `${entry.id}?${DV}`)).status, 200);
    expectArmError(await s.arm(s.armAdmin, 'GET', `${sub}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kh-gone?${DV}`), 404, 'ResourceNotFound');
    // A principal without a role in the subscription: refused before anything is said.
    const outsider = await s.appToken(nobody.appId, nobody.secret);
    expectArmError(await s.arm(outsider, 'POST', `${entry.id}/purge?${DV}`), 403, 'AuthorizationFailed');
    assert.equal((await s.arm(s.armAdmin, 'POST', `${entry.id}/purge?${DV}`)).status, 200);
    expectArmError(await s.arm(s.armAdmin, 'GET', `${entry.id}?${DV}`), 404, 'ResourceNotFound');
    assert.equal((await s.createVault('kh-gone')).status, 201);
    // Under purge protection the purge waits for the scheduled date.
    assert.equal((await s.createVault('kh-kept', { enablePurgeProtection: true })).status, 201);
    assert.equal((await s.arm(s.armAdmin, 'DELETE', `${s.group}/providers/Microsoft.KeyVault/vaults/kh-kept?${DV}`)).status, 200);
    expectArmError(await s.arm(s.armAdmin, 'POST', `${sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kh-kept/purge?${DV}`), 409, 'ConflictError');
  });

  it('leaves no secret value in the database, in plain text, base64 or hex', () => {
    assertNotStored(s.storage.url, written);
  });
});
