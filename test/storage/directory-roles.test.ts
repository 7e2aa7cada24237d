// Directory roles on both engines: the bootstrap admin holds Global Administrator; capabilities
// are handed out only to role holders; privileged users and applications are fenced; the
// directory's current state (not a token) decides, so removal takes effect at once.
import { SecretValue } from '../../src/crypto/secret-value.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBootstrapAdmin } from '../../src/directory/bootstrap-admin.js';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import {
  APPLICATION_ADMINISTRATOR, DIRECTORY_READERS, GLOBAL_ADMINISTRATOR, GROUPS_ADMINISTRATOR, USER_ADMINISTRATOR,
} from '../../src/directory/role-definitions.js';
import { KeyhavenError } from '../../src/errors.js';
import type { CoreServices } from '../../src/server/core.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const run = typeof promise === 'function' ? async () => promise() : promise;
  await assert.rejects(run, (err) => err instanceof KeyhavenError && err.code === code, `expected ${code}`);
}

for (const engine of engines) {
  describe(`directory roles: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let system: DirectoryAccess;
    let home: string;
    let adminId: string;
    const ids: Record<string, string> = {};
    const as = (name: string) => d.directory.access({ id: ids[name]!, source: '192.0.2.1' });
    const grant = (name: string, role: string, scope = '/') =>
      system.roleAssignments().assign({ roleDefinitionId: role, principalId: ids[name]!, directoryScopeId: scope });

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      system = d.directory.system();
      home = mkdtempSync(join(tmpdir(), 'kh-dir-roles-'));
      for (const name of ['useradmin', 'groupadmin', 'appadmin', 'plain', 'other']) {
        ids[name] = (await system.users().create({ userPrincipalName: `${name}@example.test`, displayName: name, password: GOOD_PASSWORD })).id;
      }
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
      rmSync(home, { recursive: true, force: true });
    });

    it('the bootstrap admin holds Global Administrator, idempotently', async () => {
      const core = { ...d.deps, config: { home, adminPassword: GOOD_PASSWORD, directoryDomain: 'corp.example' } } as unknown as CoreServices;
      assert.equal((await ensureBootstrapAdmin(core)).created, true);
      const admin = (await d.storage.read.users.byUsername('admin'))!;
      adminId = admin.id;
      // A directory administrator, not an OS login: no POSIX attributes; its UPN in directoryDomain.
      assert.deepEqual([admin.uid_number, admin.gid_number, admin.home_directory, admin.login_shell], [null, null, null, null]);
      assert.equal(admin.user_principal_name, 'admin@corp.example');
      // A database from before roles existed: the assignment is added on the next start.
      const p = fx.name === 'sqlite' ? '?' : '$1';
      await fx.exec(`delete from directory_role_assignments where principal_id = ${p}`, [adminId]);
      assert.equal((await ensureBootstrapAdmin(core)).created, false);
      assert.equal((await ensureBootstrapAdmin(core)).created, false);
      const held = await d.storage.read.roleAssignments.ofPrincipal(adminId);
      assert.deepEqual(held.map((r) => [r.role_definition_id, r.directory_scope_id]), [[GLOBAL_ADMINISTRATOR, '/']]);
      const access = await d.directory.access({ id: adminId });
      assert.equal(access.isGlobalAdministrator, true);
      assert.ok(access.users() && access.groups() && access.applications() && access.roleAssignments());
    });

    it('a signed-in user without roles may read users and groups but write nothing', async () => {
      const plain = await as('plain');
      assert.ok((await plain.reader().listUsers()).value.length >= 5);
      await rejectsWith(() => plain.users(), 'KH_FORBIDDEN');
      await rejectsWith(() => plain.groups(), 'KH_FORBIDDEN');
      await rejectsWith(() => plain.applications(), 'KH_FORBIDDEN');
      await rejectsWith(() => plain.roleAssignments(), 'KH_FORBIDDEN');
      assert.equal(await d.directory.can(ids.plain!, 'users.read'), true);
      assert.equal(await d.directory.can(ids.plain!, 'users.write'), false);
    });

    it('each role grants its own writes, and a removal takes effect on the next request', async () => {
      const ua = await grant('useradmin', USER_ADMINISTRATOR);
      await grant('groupadmin', GROUPS_ADMINISTRATOR);
      await grant('appadmin', APPLICATION_ADMINISTRATOR);
      await (await as('useradmin')).users().update(ids.plain!, { displayName: 'Plain User' });
      await (await as('groupadmin')).groups().create({ displayName: 'g', mailNickname: 'ga-made' });
      await rejectsWith(async () => (await as('groupadmin')).users(), 'KH_FORBIDDEN');
      await rejectsWith(async () => (await as('useradmin')).applications(), 'KH_FORBIDDEN');
      await rejectsWith(async () => (await as('appadmin')).roleAssignments(), 'KH_FORBIDDEN');
      await (await d.directory.access({ id: adminId })).roleAssignments().remove(ua.id);
      await rejectsWith(async () => (await as('useradmin')).users(), 'KH_FORBIDDEN');
      await grant('useradmin', USER_ADMINISTRATOR);
      await rejectsWith(grant('useradmin', USER_ADMINISTRATOR), 'KH_ROLE_ASSIGNMENT_EXISTS');
    });

    it('a User Administrator cannot manage a Global Administrator', async () => {
      const ua = (await as('useradmin')).users();
      await rejectsWith(ua.resetPassword('admin', 'Another-Long-Passphrase-77'), 'KH_FORBIDDEN_PRIVILEGED');
      await rejectsWith(ua.update(adminId, { accountEnabled: false }), 'KH_FORBIDDEN_PRIVILEGED');
      await rejectsWith(ua.delete(adminId), 'KH_FORBIDDEN_PRIVILEGED');
      await ua.resetPassword('other', 'violet tangerine 9 rocket');
      await d.directory.authenticateUser('other', new SecretValue('violet tangerine 9 rocket'), '192.0.2.1');
    });

    it('never removes, disables or deletes the last Global Administrator', async () => {
      const ga = await d.directory.access({ id: adminId });
      const [assignment] = (await ga.reader().listRoleAssignments({ principalId: adminId })).value;
      await rejectsWith(ga.roleAssignments().remove(assignment!.id), 'KH_LAST_GLOBAL_ADMIN');
      await rejectsWith(ga.users().update(adminId, { accountEnabled: false }), 'KH_LAST_GLOBAL_ADMIN');
      await rejectsWith(ga.users().delete(adminId), 'KH_LAST_GLOBAL_ADMIN');
      // The az CLI's query: $filter with eq on roleDefinitionId and principalId.
      const filtered = await ga.reader().listRoleAssignments({ filter: `roleDefinitionId eq '${GLOBAL_ADMINISTRATOR}' and principalId eq '${adminId}'` });
      assert.deepEqual(filtered.value.map((a) => a.id), [assignment!.id]);
      await rejectsWith(ga.reader().listRoleAssignments({ filter: `principalId ne '${adminId}'` }), 'KH_ODATA_FILTER_INVALID');
    });

    it('fences credentials of privileged applications and honours application scopes', async () => {
      const aa = (await as('appadmin')).applications();
      const plainApp = await aa.create({ displayName: 'plain-app', withServicePrincipal: true });
      await aa.addPassword(plainApp.application.id, {});
      const powerful = await system.applications().create({ displayName: 'powerful-app', withServicePrincipal: true });
      await system.roleAssignments().assign({ roleDefinitionId: USER_ADMINISTRATOR, principalId: powerful.servicePrincipal!.id });
      await rejectsWith(aa.addPassword(powerful.application.id, {}), 'KH_FORBIDDEN_PRIVILEGED');
      await (await d.directory.access({ id: adminId })).applications().addPassword(powerful.application.id, {});
      // Scoped to one application: that one only, and no new registrations.
      await grant('other', APPLICATION_ADMINISTRATOR, `/${plainApp.application.id}`);
      const scoped = (await as('other')).applications();
      await scoped.addPassword(plainApp.application.id, {});
      await rejectsWith(scoped.addPassword(powerful.application.id, {}), 'KH_FORBIDDEN');
      await rejectsWith(scoped.create({ displayName: 'nope' }), 'KH_FORBIDDEN');
      await rejectsWith(grant('other', USER_ADMINISTRATOR, `/${plainApp.application.id}`), 'KH_ROLE_SCOPE_INVALID');
    });

    it('shows credential metadata only to those allowed, and never a secret', async () => {
      const app = await system.applications().create({ displayName: 'secretive', withServicePrincipal: true });
      const secret = await system.applications().addPassword(app.application.id, {});
      const asPlain = await (await as('plain')).reader().getApplication(app.application.appId);
      assert.deepEqual(asPlain.passwordCredentials, []);
      const asAppAdmin = await (await as('appadmin')).reader().getApplication(app.application.id);
      assert.equal(asAppAdmin.passwordCredentials.length, 1);
      assert.equal(asAppAdmin.passwordCredentials[0]!.hint, secret.secretText.slice(0, 3));
      assert.ok(!JSON.stringify(asAppAdmin).includes(secret.secretText));
    });

    it('a service principal reads only with a role; groups cannot hold roles', async () => {
      const app = await system.applications().create({ displayName: 'reader-app', withServicePrincipal: true });
      ids.sp = app.servicePrincipal!.id;
      await rejectsWith(async () => (await as('sp')).reader(), 'KH_FORBIDDEN');
      await grant('sp', DIRECTORY_READERS);
      assert.ok((await (await as('sp')).reader().listGroups()).value.length >= 1);
      await rejectsWith(async () => (await as('sp')).self(), 'KH_FORBIDDEN');
      const group = await system.groups().create({ displayName: 'would-be admins', mailNickname: 'would-be-admins' });
      await rejectsWith(system.roleAssignments().assign({ roleDefinitionId: GLOBAL_ADMINISTRATOR, principalId: group.id }), 'KH_ROLE_PRINCIPAL_INVALID');
      await rejectsWith(system.roleAssignments().assign({ roleDefinitionId: '00000000-0000-0000-0000-000000000000', principalId: ids.plain! }), 'KH_ROLE_DEFINITION_NOT_FOUND');
    });

    it('refuses a deleted or disabled caller at once', async () => {
      const ua = (await as('useradmin')).users();
      await ua.update(ids.plain!, { accountEnabled: false });
      await rejectsWith(as('plain'), 'KH_CALLER_INACTIVE');
      assert.equal(await d.directory.isActive(ids.plain!), false);
      await ua.delete(ids.plain!);
      await rejectsWith(as('plain'), 'KH_CALLER_INACTIVE');
      assert.equal(await d.directory.principal(ids.plain!), undefined);
      assert.deepEqual((await system.reader().listRoleAssignments({ principalId: ids.plain! })).value, []);
    });
  });
}
