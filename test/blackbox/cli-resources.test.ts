// The `keyhaven` CLI's management-plane verbs against a live server, through the CLI only
// (but for the second subscription, made with the token the CLI hands out): account set,
// resource groups, user-assigned identities, machines and scale sets with their identities
// (vm create --assign-identity, vm identity assign|remove, vm assign-identity), resource list,
// role definitions and role assignments (by UPN, appId and object id, role by name and id) —
// the Managed Identity Operator rule as a user meets it — JSON as az prints it and az's exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

type Result = Awaited<ReturnType<typeof runCli>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function json<T = Json>(r: Result): T {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function ok(r: Result): Result {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function fails(r: Result, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, wanted ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^ERROR: [^\n]+\n$/, r.stderr);
  assert.match(r.stderr, pattern);
}

const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const MANAGED_IDENTITY_OPERATOR = 'f1a07417-d97a-45cb-824c-7a7467783830';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

describe('keyhaven management verbs (group, identity, vm, vmss, resource, role, account set)', () => {
  const { home, remove } = tempHome();
  const dirs: string[] = [];
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let admin: string;
  let bobDir: string;
  let sub: string;
  let tenantId: string;
  const bobPassword = 'Harbor-lantern-meadow-71';

  const newDir = () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kh-cli-arm-')), 'config');
    dirs.push(dir);
    return dir;
  };
  const kh = (dir: string, ...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: dir } });
  const spExists = async (id: string) => json<Json[]>(await kh(admin, 'ad', 'sp', 'list', '--filter', `id eq '${id}'`)).length === 1;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    admin = newDir();
    const password = readFileSync(join(home, 'admin-password'), 'utf8').trim();
    const accounts = json<Json[]>(await kh(admin, 'login', '--server', server.url, '--username', 'admin', '--password', password));
    sub = accounts[0]!.id;
    tenantId = accounts[0]!.tenantId;
    ok(await kh(admin, 'ad', 'user', 'create', '--display-name', 'Bob', '--user-principal-name', 'bob@keyhaven.local', '--password', bobPassword));
    bobDir = newDir();
    ok(await kh(bobDir, 'login', '--server', server.url, '--username', 'bob@keyhaven.local', '--password', bobPassword));
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    for (const dir of dirs) rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('group create|show|list|delete', async () => {
    const created = json(await kh(admin, 'group', 'create', '-n', 'scratch', '-l', 'West Europe', '--tags', 'team=ml', 'temp'));
    assert.deepEqual(created, {
      id: `/subscriptions/${sub}/resourceGroups/scratch`,
      location: 'westeurope',
      managedBy: null,
      name: 'scratch',
      properties: { provisioningState: 'Succeeded' },
      tags: { team: 'ml', temp: '' },
      type: 'Microsoft.Resources/resourceGroups',
    });
    assert.deepEqual(json(await kh(admin, 'group', 'show', '-g', 'scratch')), created);
    ok(await kh(admin, 'group', 'create', '-n', 'ml', '-l', 'westeurope'));
    assert.deepEqual(json<Json[]>(await kh(admin, 'group', 'list', '--query', '[].name')).sort(), ['ml', 'scratch']);
    ok(await kh(admin, 'group', 'delete', '-n', 'scratch', '--yes'));
    fails(await kh(admin, 'group', 'show', '-n', 'scratch'), 3, /Resource group 'scratch' could not be found/);
    fails(await kh(admin, 'group', 'show'), 2, /--name/);
    // A user with no role sees no subscription at login (as az): nothing to act in.
    fails(await kh(bobDir, 'group', 'list'), 1, /No subscription found/);
    fails(await kh(bobDir, 'group', 'list', '--subscription', sub), 1, /Subscription '.*' not found/);
  });

  it('identity create|show|list|delete: the identity a service principal in the directory', async () => {
    const trainer = json(await kh(admin, 'identity', 'create', '-g', 'ml', '-n', 'scratch-id'));
    assert.deepEqual(Object.keys(trainer).sort(), ['clientId', 'id', 'location', 'name', 'principalId', 'resourceGroup', 'systemData', 'tags', 'tenantId', 'type']);
    assert.equal(trainer.id, `/subscriptions/${sub}/resourceGroups/ml/providers/${UAI}/scratch-id`);
    assert.equal(trainer.location, 'westeurope', "the group's location");
    assert.equal(trainer.resourceGroup, 'ml');
    assert.equal(trainer.tenantId, tenantId);
    const sp = json<Json[]>(await kh(admin, 'ad', 'sp', 'list', '--filter', `appId eq '${trainer.clientId}'`));
    assert.equal(sp.length, 1);
    assert.equal(sp[0]!.id, trainer.principalId);
    assert.equal(sp[0]!.servicePrincipalType, 'ManagedIdentity');
    assert.deepEqual(json(await kh(admin, 'identity', 'show', '-g', 'ml', '-n', 'scratch-id')), trainer);
    assert.deepEqual(json(await kh(admin, 'identity', 'show', '--ids', trainer.id)), trainer);
    assert.deepEqual(json(await kh(admin, 'identity', 'list', '-g', 'ml', '--query', '[].name')), ['scratch-id']);
    assert.deepEqual(json(await kh(admin, 'identity', 'list', '--query', '[].principalId')), [trainer.principalId]);
    ok(await kh(admin, 'identity', 'delete', '--ids', trainer.id));
    assert.equal(await spExists(trainer.principalId), false);
    fails(await kh(admin, 'identity', 'show', '-g', 'ml', '-n', 'scratch-id'), 3, /was not found/);
    fails(await kh(admin, 'identity', 'show', '-g', 'ml'), 2, /--ids \| --name NAME --resource-group NAME/);
  });

  it('vm and vmss create|show|list|delete with --assign-identity; vm identity assign|remove; vm assign-identity; resource list', async () => {
    const trainer = json(await kh(admin, 'identity', 'create', '-g', 'ml', '-n', 'trainer'));
    // No value: the system-assigned identity.
    const box = json(await kh(admin, 'vm', 'create', '-g', 'ml', '-n', 'box', '--assign-identity'));
    assert.equal(box.id, `/subscriptions/${sub}/resourceGroups/ml/providers/Microsoft.Compute/virtualMachines/box`);
    assert.equal(box.resourceGroup, 'ml');
    assert.match(box.identity.systemAssignedIdentity, /^[0-9a-f-]{36}$/);
    assert.deepEqual(box.identity.userAssignedIdentities, {});
    const system = box.identity.systemAssignedIdentity as string;
    assert.equal(await spExists(system), true);
    // A user-assigned one by name (in the machine's group) and [system].
    const both = json(await kh(admin, 'vm', 'create', '-g', 'ml', '-n', 'box2', '--assign-identity', 'trainer', '[system]'));
    assert.deepEqual(both.identity.userAssignedIdentities, { [trainer.id]: { principalId: trainer.principalId, clientId: trainer.clientId } });
    const shown = json(await kh(admin, 'vm', 'show', '-g', 'ml', '-n', 'box2'));
    assert.equal(shown.identity.type, 'SystemAssigned, UserAssigned');
    assert.equal(shown.resourceGroup, 'ml');
    assert.equal(shown.provisioningState, 'Succeeded', 'properties flattened as az prints them');
    const plain = json(await kh(admin, 'vm', 'create', '-g', 'ml', '-n', 'box3'));
    assert.equal(plain.identity, undefined);
    assert.deepEqual(json<string[]>(await kh(admin, 'vm', 'list', '-g', 'ml', '--query', '[].name')).sort(), ['box', 'box2', 'box3']);

    // vm identity assign: attaches, keeping the system-assigned identity.
    const assigned = json(await kh(admin, 'vm', 'identity', 'assign', '-g', 'ml', '-n', 'box', '--identities', trainer.id));
    assert.equal(assigned.systemAssignedIdentity, system);
    assert.deepEqual(assigned.userAssignedIdentities, { [trainer.id]: { principalId: trainer.principalId, clientId: trainer.clientId } });
    const removed = json(await kh(admin, 'vm', 'identity', 'remove', '-g', 'ml', '-n', 'box', '--identities', 'trainer'));
    assert.deepEqual(removed, { type: 'SystemAssigned', principalId: system, tenantId });
    fails(await kh(admin, 'vm', 'identity', 'remove', '-g', 'ml', '-n', 'box', '--identities', 'trainer'), 1, /are not associated with 'box'/);
    // The older verb of the seed documents: system-assigned by default.
    const older = json(await kh(admin, 'vm', 'assign-identity', '-g', 'ml', '-n', 'box3'));
    assert.match(older.systemAssignedIdentity, /^[0-9a-f-]{36}$/);
    // vm identity remove without --identities: the system-assigned identity goes, and its principal.
    const none = await kh(admin, 'vm', 'identity', 'remove', '-g', 'ml', '-n', 'box3');
    ok(none);
    assert.deepEqual(JSON.parse(none.stdout), { type: 'None' });
    assert.equal(await spExists(older.systemAssignedIdentity), false);

    // az resource list -n NAME --query [*].identity.principalId (the seed documents' way).
    const principal = ok(await kh(admin, 'resource', 'list', '-n', 'box', '--query', '[*].identity.principalId', '-o', 'tsv'));
    assert.equal(principal.stdout.trim(), system);
    const identities = json<Json[]>(await kh(admin, 'resource', 'list', '-g', 'ml', '--resource-type', UAI));
    assert.deepEqual(identities.map((r) => r.name), ['trainer']);
    assert.equal(identities[0]!.resourceGroup, 'ml');
    assert.equal(identities[0]!.sku, null);
    assert.deepEqual(json(await kh(admin, 'resource', 'list', '-n', 'nothing-here')), []);

    // Scale sets.
    const pool = json(await kh(admin, 'vmss', 'create', '-g', 'ml', '-n', 'pool', '--assign-identity', trainer.id));
    assert.deepEqual(pool.vmss.identity, { type: 'UserAssigned', userAssignedIdentities: { [trainer.id]: { principalId: trainer.principalId, clientId: trainer.clientId } } });
    assert.equal(json(await kh(admin, 'vmss', 'show', '-g', 'ml', '-n', 'pool')).identity.type, 'UserAssigned');
    assert.deepEqual(json(await kh(admin, 'vmss', 'list', '--query', '[].name')), ['pool']);
    ok(await kh(admin, 'vmss', 'delete', '-g', 'ml', '-n', 'pool', '--yes'));
    fails(await kh(admin, 'vmss', 'show', '-g', 'ml', '-n', 'pool'), 3, /was not found/);

    // Deleting the machine deletes its system-assigned principal; the user-assigned one stays.
    ok(await kh(admin, 'vm', 'delete', '-g', 'ml', '-n', 'box', '--yes'));
    assert.equal(await spExists(system), false);
    assert.equal(await spExists(trainer.principalId), true);
    fails(await kh(admin, 'vm', 'show', '-g', 'ml', '-n', 'box'), 3, /was not found/);
  });

  it('role definition list|create|delete', async () => {
    const [mio] = json<Json[]>(await kh(admin, 'role', 'definition', 'list', '--name', 'Managed Identity Operator'));
    assert.equal(mio!.name, MANAGED_IDENTITY_OPERATOR);
    assert.equal(mio!.roleType, 'BuiltInRole');
    assert.equal(mio!.type, 'Microsoft.Authorization/roleDefinitions');
    assert.ok((mio!.permissions[0].actions as string[]).includes('Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action'));
    assert.equal(json<Json[]>(await kh(admin, 'role', 'definition', 'list', '--name', READER))[0]!.roleName, 'Reader');
    const custom = json(await kh(admin, 'role', 'definition', 'create', '--role-definition', JSON.stringify({
      Name: 'Identity Attacher', Description: 'Attach identities only', Actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'], AssignableScopes: [`/subscriptions/${sub}`],
    })));
    assert.equal(custom.roleName, 'Identity Attacher');
    assert.equal(custom.roleType, 'CustomRole');
    assert.deepEqual(custom.assignableScopes, [`/subscriptions/${sub}`]);
    assert.deepEqual(json(await kh(admin, 'role', 'definition', 'list', '--custom-role-only', '--query', '[].roleName')), ['Identity Attacher']);
    ok(await kh(admin, 'role', 'definition', 'delete', '--name', 'Identity Attacher'));
    assert.deepEqual(json(await kh(admin, 'role', 'definition', 'list', '--custom-role-only')), []);
    fails(await kh(admin, 'role', 'definition', 'delete', '--name', 'Identity Attacher'), 1, /Role 'Identity Attacher' doesn't exist/);
    fails(await kh(admin, 'role', 'definition', 'create', '--role-definition', '{not json'), 2, /must be JSON/);
  });

  it('role assignment create|list|delete, and the Managed Identity Operator rule as a user meets it', async () => {
    const trainer = json(await kh(admin, 'identity', 'show', '-g', 'ml', '-n', 'trainer'));
    const bob = json<Json[]>(await kh(admin, 'ad', 'user', 'list', '--upn', 'bob@keyhaven.local'))[0]!;
    // Contributor on the machines' group (by UPN): bob may write machines there, but not attach
    // the identity, which lives in another group (Contributor where the identity is would grant it: its actions are *).
    ok(await kh(admin, 'group', 'create', '-n', 'apps', '-l', 'westeurope'));
    const contributor = json(await kh(admin, 'role', 'assignment', 'create', '--assignee', 'bob@keyhaven.local', '--role', 'Contributor', '-g', 'apps'));
    assert.equal(contributor.principalId, bob.id);
    assert.equal(contributor.principalType, 'User');
    assert.equal(contributor.scope, `/subscriptions/${sub}/resourceGroups/apps`);
    assert.equal(contributor.type, 'Microsoft.Authorization/roleAssignments');
    assert.match(contributor.roleDefinitionId, /\/providers\/Microsoft\.Authorization\/roleDefinitions\/b24988ac-6180-42a0-ab88-20f7382dd24c$/);
    // Signed in again (as az account list --refresh would), bob's login lists the subscription.
    ok(await kh(bobDir, 'login', '--server', server.url, '--username', 'bob@keyhaven.local', '--password', bobPassword));
    assert.equal(json(await kh(bobDir, 'group', 'show', '-n', 'apps')).name, 'apps');
    fails(await kh(bobDir, 'group', 'show', '-n', 'ml'), 1, /does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/read'/);
    fails(await kh(bobDir, 'vm', 'create', '-g', 'apps', '-n', 'bobs-box', '--assign-identity', trainer.id), 1,
      new RegExp(`does not have permission to perform action\\(s\\) 'Microsoft\\.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope\\(s\\) '${trainer.id}'`));
    fails(await kh(bobDir, 'vm', 'show', '-g', 'apps', '-n', 'bobs-box'), 3, /was not found/);
    // Managed Identity Operator on the identity (role by id, scope the identity): allowed.
    const operator = json(await kh(admin, 'role', 'assignment', 'create', '--assignee', bob.id, '--role', MANAGED_IDENTITY_OPERATOR, '--scope', trainer.id));
    assert.equal(operator.scope, trainer.id);
    const bobs = json(await kh(bobDir, 'vm', 'create', '-g', 'apps', '-n', 'bobs-box', '--assign-identity', trainer.id));
    assert.deepEqual(Object.keys(bobs.identity.userAssignedIdentities), [trainer.id]);

    // The identity itself as assignee: by appId (its clientId) and by object id with its type.
    const byAppId = json(await kh(admin, 'role', 'assignment', 'create', '--assignee', trainer.clientId, '--role', 'Reader', '-g', 'ml'));
    assert.equal(byAppId.principalId, trainer.principalId);
    assert.equal(byAppId.principalType, 'ServicePrincipal');
    const byObjectId = json(await kh(admin, 'role', 'assignment', 'create', '--assignee-object-id', trainer.principalId, '--assignee-principal-type', 'ServicePrincipal', '--role', 'Reader'));
    assert.equal(byObjectId.scope, `/subscriptions/${sub}`);
    fails(await kh(admin, 'role', 'assignment', 'create', '--assignee-object-id', trainer.principalId, '--assignee-principal-type', 'User', '--role', 'Reader', '-g', 'ml'), 1, /different from specified PrincipalType/);

    // list: at the subscription only by default; --all everything below; names added as az adds them.
    const atSubscription = json<Json[]>(await kh(admin, 'role', 'assignment', 'list', '--assignee', trainer.clientId));
    assert.deepEqual(atSubscription.map((a) => a.name), [byObjectId.name]);
    assert.equal(atSubscription[0]!.roleDefinitionName, 'Reader');
    assert.equal(atSubscription[0]!.principalName, trainer.clientId);
    const bobsAll = json<Json[]>(await kh(admin, 'role', 'assignment', 'list', '--assignee', 'bob@keyhaven.local', '--all'));
    assert.deepEqual(bobsAll.map((a) => a.roleDefinitionName).sort(), ['Contributor', 'Managed Identity Operator']);
    assert.ok(bobsAll.every((a) => a.principalName === 'bob@keyhaven.local'));
    assert.deepEqual(json(await kh(admin, 'role', 'assignment', 'list', '--scope', trainer.id, '--query', '[].roleDefinitionName')), ['Managed Identity Operator']);

    // delete by assignee, role and scope; by --ids. Then bob's next attach is refused.
    ok(await kh(admin, 'role', 'assignment', 'delete', '--assignee', 'bob@keyhaven.local', '--role', 'Managed Identity Operator', '--scope', trainer.id));
    assert.deepEqual(json(await kh(admin, 'role', 'assignment', 'list', '--scope', trainer.id)), []);
    fails(await kh(bobDir, 'vm', 'identity', 'assign', '-g', 'apps', '-n', 'bobs-box', '--identities', trainer.id, '[system]'), 1, /LinkedAuthorization|linked scope/);
    ok(await kh(admin, 'role', 'assignment', 'delete', '--ids', byAppId.id, byObjectId.id));
    assert.deepEqual(json(await kh(admin, 'role', 'assignment', 'list', '--assignee', trainer.principalId, '--all')), []);
    fails(await kh(admin, 'role', 'assignment', 'delete', '--assignee', trainer.principalId, '--role', 'Reader'), 1, /No matched assignments were found to delete/);
    fails(await kh(admin, 'role', 'assignment', 'create', '--role', 'Reader'), 2, /--assignee STRING \| --assignee-object-id GUID/);
    fails(await kh(admin, 'role', 'assignment', 'create', '--assignee', bob.id, '--role', 'No Such Role'), 1, /Role 'No Such Role' doesn't exist/);
    void contributor;
  });

  it("group delete takes the group's identities; account set --subscription chooses where verbs act", async () => {
    const trainer = json(await kh(admin, 'identity', 'show', '-g', 'ml', '-n', 'trainer'));
    ok(await kh(admin, 'group', 'delete', '-n', 'ml', '--yes'));
    assert.equal(await spExists(trainer.principalId), false);
    fails(await kh(admin, 'identity', 'show', '-g', 'ml', '-n', 'trainer'), 3, /could not be found/);

    // A second subscription (ARM's subscription alias, with the CLI's own token); a new login lists both.
    // Creating one needs a role at the root: a Global Administrator elevates access (User Access
    // Administrator at /), then grants itself Owner there with the CLI.
    const token = json(await kh(admin, 'account', 'get-access-token')).accessToken as string;
    const elevated = await fetch(`${server.url}/providers/Microsoft.Authorization/elevateAccess?api-version=2016-07-01`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(elevated.status, 200, await elevated.text());
    const adminId = decodeJwt(token).oid as string;
    const root = json(await kh(admin, 'role', 'assignment', 'create', '--assignee-object-id', adminId, '--assignee-principal-type', 'User', '--role', 'Owner', '--scope', '/'));
    assert.equal(root.scope, '/');
    const made = await fetch(`${server.url}/providers/Microsoft.Subscription/aliases/research?api-version=2021-10-01`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ properties: { displayName: 'Research' } }),
    });
    assert.equal(made.status, 201, await made.text());
    const password = readFileSync(join(home, 'admin-password'), 'utf8').trim();
    ok(await kh(admin, 'login', '--server', server.url, '--username', 'admin', '--password', password));
    const research = json<Json[]>(await kh(admin, 'account', 'list')).find((a) => a.name === 'Research')!;
    assert.ok(research, 'the new subscription is listed');
    ok(await kh(admin, 'account', 'set', '--subscription', 'research'));
    const shown = json(await kh(admin, 'account', 'show'));
    assert.equal(shown.id, research.id);
    assert.equal(shown.isDefault, true);
    assert.equal(json<Json[]>(await kh(admin, 'account', 'list')).filter((a) => a.isDefault).length, 1);
    const created = json(await kh(admin, 'group', 'create', '-n', 'lab', '-l', 'eastus'));
    assert.equal(created.id, `/subscriptions/${research.id}/resourceGroups/lab`);
    fails(await kh(admin, 'group', 'show', '-n', 'lab', '--subscription', sub), 3, /could not be found/);
    ok(await kh(admin, 'account', 'set', '-s', sub));
    assert.equal(json(await kh(admin, 'account', 'show')).id, sub);
    fails(await kh(admin, 'account', 'set', '--subscription', 'nope'), 1, /The subscription of 'nope' doesn't exist/);
  });
});
