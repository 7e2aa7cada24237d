// The directory's in-process read model on both engines: loaded at first use; exact after the
// core's own writes the moment they return (users, groups, memberships, deletes, an LDIF
// import's source DNs); unchanged by a failed transaction; on SQLite, another process's
// commit is seen on the next read; on PostgreSQL, a second core on the same database sees a
// change within a bounded wait (NOTIFY), and a dropped LISTEN connection leads to a full
// reload that brings what no NOTIFY announced.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import { importLdif } from '../../src/directory/ldif/ldif-import.js';
import { LISTENER_APPLICATION_NAME } from '../../src/storage/postgres-listener.js';
import { DIRECTORY_READERS } from '../../src/directory/role-definitions.js';
import type { LdapViewer } from '../../src/ldap/ldap-directory.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import { engines, failAuditInsertsSql, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

/** Polls `check` until it holds, for at most `ms`; never a fixed sleep. */
async function eventually(check: () => Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sorted = (s: Iterable<string>) => [...s].sort();

for (const engine of engines) {
  describe(`read model: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      admin = d.directory.system();
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    const mkUser = (name: string, extra = {}) =>
      admin.users().create({ userPrincipalName: `${name}@keyhaven.local`, displayName: name, password: GOOD_PASSWORD, ...extra });

    it('loads what is already there, then follows each write as it returns', async () => {
      const early = await mkUser('early');
      const model = await d.directory.readModel();
      assert.equal(model.findUser('early')?.id, early.id);
      assert.equal(d.directory.readModelLoads, 1);

      const ada = await mkUser('ada', { mail: 'ada@example.org', keyhavenExtraAttributes: { employeeType: ['staff'] } });
      assert.equal(model.findUser('ada')?.mail, 'ada@example.org', 'a create is there when it returns');
      assert.equal(model.findUser('ADA@keyhaven.local')?.id, ada.id, 'by UPN, ignoring case');
      assert.deepEqual(model.user(ada.id)?.keyhavenExtraAttributes, { employeeType: ['staff'] });

      await admin.users().update(ada.id, { displayName: 'Ada Lovelace' });
      assert.equal(model.user(ada.id)?.displayName, 'Ada Lovelace');

      const inner = await admin.groups().create({ displayName: 'Inner', mailNickname: 'inner' });
      const outer = await admin.groups().create({ displayName: 'Outer', mailNickname: 'outer' });
      await admin.groups().addMember(inner.id, ada.id);
      await admin.groups().addMember(outer.id, inner.id);
      assert.deepEqual(sorted(model.directGroupsOf(ada.id)), [inner.id]);
      assert.deepEqual(sorted(model.transitiveGroupsOf(ada.id)), sorted([inner.id, outer.id]));
      assert.deepEqual(sorted(model.transitiveMembers(outer.id)), sorted([inner.id, ada.id]));
      assert.equal(model.isTransitiveMember(ada.id, outer.id), true);
      assert.equal(model.findGroup('OUTER')?.id, outer.id);

      // A removal is effective at once: no time-to-live.
      await admin.groups().removeMember(inner.id, ada.id);
      assert.deepEqual([...model.directGroupsOf(ada.id)], []);
      assert.equal(model.isTransitiveMember(ada.id, outer.id), false);

      await admin.groups().addMember(inner.id, ada.id);
      await admin.users().delete(ada.id);
      assert.equal(model.user(ada.id), undefined);
      assert.equal(model.findUser('ada'), undefined);
      assert.deepEqual([...model.directMembers(inner.id).keys()], [], 'a deleted user leaves its groups');

      await admin.groups().delete(inner.id);
      assert.equal(model.group(inner.id), undefined);
      assert.deepEqual([...model.directMembers(outer.id).keys()], [], 'a deleted group leaves its groups');
      assert.equal(d.directory.readModelLoads, 1, 'own writes never need a full reload');
    });

    it('holds what an LDIF import brought, by its original DN', async () => {
      const ldif = [
        'dn: uid=grace,ou=people,dc=example,dc=org', 'objectClass: inetOrgPerson', 'uid: grace', 'cn: Grace Hopper', 'sn: Hopper', '',
        'dn: cn=navy,ou=groups,dc=example,dc=org', 'objectClass: groupOfNames', 'cn: navy', 'member: uid=grace,ou=people,dc=example,dc=org', '',
      ].join('\n');
      await importLdif(d.deps, ldif, { directoryDomain: 'keyhaven.local' });
      const model = await d.directory.readModel();
      const grace = model.bySourceDn('UID=Grace, OU=People,DC=example,DC=org');
      assert.equal(grace?.kind, 'user');
      const navy = model.bySourceDn('cn=navy,ou=groups,dc=example,dc=org');
      assert.equal(navy?.kind, 'group');
      assert.deepEqual([...model.directGroupsOf(grace.kind === 'user' ? grace.user.id : '')], [navy.kind === 'group' ? navy.group.id : '']);
      assert.equal(model.bySourceDn('uid=nobody,dc=example,dc=org'), undefined);
      assert.equal(model.bySourceDn('uid=grace\u0000,dc=example,dc=org'), undefined);
    });

    it('a failed transaction changes nothing', async () => {
      const model = await d.directory.readModel();
      const before = model.version;
      const count = model.userCount;
      const taken = await mkUser('dup');
      await assert.rejects(mkUser('dup'));
      assert.equal(model.findUser('dup')?.id, taken.id);
      assert.equal(model.userCount, count + 1);
      const keep = await admin.groups().create({ displayName: 'Keep', mailNickname: 'keep' });
      for (const q of failAuditInsertsSql(engine.name)) await fx.exec(q);
      try {
        await assert.rejects(mkUser('unaudited'));
        await assert.rejects(admin.groups().create({ displayName: 'Never', mailNickname: 'never' }));
        await assert.rejects(admin.groups().addMember(keep.id, taken.id));
        await assert.rejects(admin.users().update(taken.id, { displayName: 'Renamed' }));
      } finally {
        if (engine.name === 'sqlite') await fx.exec('drop trigger kh_test_fail_audit');
        else {
          await fx.exec('drop trigger kh_test_fail_audit on audit_records');
          await fx.exec('drop function kh_test_fail_audit');
        }
      }
      assert.equal(model.findUser('unaudited'), undefined);
      assert.equal(model.findGroup('never'), undefined);
      assert.deepEqual([...model.directGroupsOf(taken.id)], []);
      assert.equal(model.user(taken.id)?.displayName, 'dup');
      assert.ok(model.version > before);
    });

    if (engine.name === 'sqlite') {
      it("sees another process's commit on the next read (an admin command on the same file)", async () => {
        const model = await d.directory.readModel();
        const loads = d.directory.readModelLoads;
        const other = await openDirectory(fx);
        try {
          const made = await other.directory.system().users().create({ userPrincipalName: 'elsewhere@keyhaven.local', displayName: 'Elsewhere', password: GOOD_PASSWORD });
          assert.equal((await d.directory.readModel()).findUser('elsewhere')?.id, made.id);
          assert.equal(d.directory.readModelLoads, loads + 1);
          assert.equal(await d.directory.readModel(), model);
        } finally {
          await other.close();
        }
      });
    }

    if (engine.name === 'postgres') {
      it('a second core on the same database sees each change within a bounded wait (NOTIFY)', async () => {
        const other = await openDirectory(fx);
        try {
          const theirs = await other.directory.readModel();
          const loads = other.directory.readModelLoads;
          const u = await mkUser('replicated');
          await eventually(async () => theirs.findUser('replicated')?.id === u.id, 5_000, 'the new user on the other core');
          const g = await admin.groups().create({ displayName: 'Rep', mailNickname: 'rep' });
          await admin.groups().addMember(g.id, u.id);
          await eventually(async () => theirs.directGroupsOf(u.id).has(g.id), 5_000, 'the membership on the other core');
          await admin.groups().removeMember(g.id, u.id);
          await eventually(async () => !theirs.directGroupsOf(u.id).has(g.id), 5_000, 'the removal on the other core');
          await admin.users().delete(u.id);
          await eventually(async () => theirs.user(u.id) === undefined, 5_000, 'the deletion on the other core');
          assert.equal(other.directory.readModelLoads, loads, 'NOTIFYs are applied object by object');

          // And the other way round: a write on the second core is seen here.
          const back = await other.directory.system().users().create({ userPrincipalName: 'back@keyhaven.local', displayName: 'Back', password: GOOD_PASSWORD });
          const mine = await d.directory.readModel();
          await eventually(async () => mine.user(back.id) !== undefined, 5_000, 'the other core\'s user here');
        } finally {
          await other.close();
        }
      });

      it('an LDAP search on the other core sees a membership change and its revocation within a bounded wait', async () => {
        const other = await openDirectory(fx);
        try {
          const view = new LdapView({ directory: other.directory, config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
          const { application, servicePrincipal } = await admin.applications().create({ displayName: 'replica-reader', withServicePrincipal: true });
          const cred = await admin.applications().addPassword(application.id, { displayName: 'ldap' });
          await admin.roleAssignments().assign({ roleDefinitionId: DIRECTORY_READERS, principalId: servicePrincipal!.id });
          // Bound through the first core (each fixture has its own credential key); searching on the other.
          const here = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'keyhaven.local' }) });
          const reader: LdapViewer = (await here.bind(`cn=${application.appId},ou=services,dc=keyhaven,dc=local`, cred.secretText, '127.0.0.1')).viewer;
          const groupsOf = async (uid: string) => {
            const out: string[] = [];
            const filter = parseFilterText(`(&(objectClass=groupOfNames)(memberUid=${uid}))`);
            for await (const e of view.search({ baseDn: 'dc=keyhaven,dc=local', scope: 'sub', filter, attributes: ['cn'], typesOnly: false }, reader)) out.push(e.dn);
            return out;
          };
          const u = await mkUser('ldapreplica');
          const g = await admin.groups().create({ displayName: 'Replicated', mailNickname: 'replicated-group' });
          await admin.groups().addMember(g.id, u.id);
          await eventually(async () => (await groupsOf('ldapreplica')).length === 1, 5_000, 'the membership in the other server\'s search');
          await admin.groups().removeMember(g.id, u.id);
          await eventually(async () => (await groupsOf('ldapreplica')).length === 0, 5_000, 'the revocation in the other server\'s search');
        } finally {
          await other.close();
        }
      });

      it('after the LISTEN connection drops, a full reload brings what no NOTIFY announced', async () => {
        const model = await d.directory.readModel();
        const loads = d.directory.readModelLoads;
        const u = await mkUser('silent');
        // Changed behind Keyhaven's back: no NOTIFY, so the model cannot know yet.
        await fx.exec(`update users set display_name = 'Changed Quietly' where id = $1`, [u.id]);
        assert.equal(model.user(u.id)?.displayName, 'silent');
        const killed = await fx.exec(`select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1 and datname = current_database()`, [LISTENER_APPLICATION_NAME]);
        assert.ok(killed.length >= 1, 'the listening session was found');
        await eventually(async () => (await d.directory.readModel()).user(u.id)?.displayName === 'Changed Quietly', 10_000, 'the full reload');
        assert.ok(d.directory.readModelLoads > loads);
        // And the new connection listens: a change from elsewhere arrives again.
        const other = await openDirectory(fx);
        try {
          const late = await other.directory.system().users().create({ userPrincipalName: 'late@keyhaven.local', displayName: 'Late', password: GOOD_PASSWORD });
          await eventually(async () => model.user(late.id) !== undefined, 5_000, 'a NOTIFY after the reconnect');
        } finally {
          await other.close();
        }
      });
    }
  });
}
