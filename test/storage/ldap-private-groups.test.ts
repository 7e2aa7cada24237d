// User private groups through the LDAP view itself, on both engines: served where the user
// is visible and nowhere else (a user who may not see others sees only their own; anonymous
// search sees public ones), found the same by every shortcut as by a full pass (a filter that
// defeats the planner gives the same answer), compared by their matching rules, gone when a
// real group takes their place, and not served in the AD DS layout where a group would share
// its user's DN.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import type { VisibilityOptions } from '../../src/directory/scoped-reader.js';
import type { LdapEntry, LdapViewer, SearchParams } from '../../src/ldap/ldap-directory.js';
import { parseFilterText } from '../../src/ldap/view/filter-ast.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

const BASE = 'dc=keyhaven,dc=local';
const SOURCE = '198.51.100.7';

async function search(view: LdapView, viewer: LdapViewer, filter: string, baseDn = BASE, scope: SearchParams['scope'] = 'sub'): Promise<LdapEntry[]> {
  const out: LdapEntry[] = [];
  for await (const e of view.search({ baseDn, scope, filter: parseFilterText(filter), attributes: [], typesOnly: false }, viewer)) out.push(e);
  return out;
}

async function dns(...args: Parameters<typeof search>): Promise<string[]> {
  return (await search(...args)).map((e) => e.dn).sort();
}

for (const engine of engines) {
  describe(`LDAP private groups: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;
    const uid: Record<string, number> = {};
    const view = (extra: Record<string, unknown> = {}, visibility?: VisibilityOptions) => new LdapView({
      directory: visibility ? d.withOptions({ visibility }) : d.directory,
      config: ldapViewConfig({ directoryDomain: 'keyhaven.local', ...extra }),
    });
    const bindAs = async (v: LdapView, name: string) => (await v.bind(`uid=${name},ou=people,${BASE}`, GOOD_PASSWORD, SOURCE)).viewer;
    const pg = (name: string) => `cn=${name},ou=groups,${BASE}`;

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      admin = d.directory.system();
      for (const name of ['ada', 'ben', 'cleo']) {
        const u = await admin.users().create({ userPrincipalName: `${name}@keyhaven.local`, displayName: name, password: GOOD_PASSWORD });
        uid[name] = u.keyhavenPosix.uidNumber!;
      }
      const team = await admin.groups().create({ displayName: 'team', mailNickname: 'team' });
      await admin.users().update('cleo', { keyhavenPosix: { primaryGroup: team.id } });
      await admin.groups().addMember(team.id, (await admin.reader().getUser('ada')).id);
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    it('serves them by gidNumber, cn, memberUid and objectClass, exactly as a full pass finds them', async () => {
      const v = view();
      const ada = await bindAs(v, 'ada');
      const filters = [
        `(&(objectClass=posixGroup)(gidNumber=${uid.ada}))`, `(gidNumber=${uid.ben})`, '(cn=ADA)', '(&(objectClass=posixGroup)(memberUid=ben))',
        '(objectClass=posixGroup)', '(memberUid=*)', '(cn=a*)', `(gidNumber>=${uid.ben})`, '(&(objectClass=groupOfNames)(cn=ada))',
        '(member=*)', `(gidNumber=${uid.cleo})`, '(cn=cleo)', '(uid=ada)', '(entryUUID=*)', '(|(cn=ada)(cn=ben))',
      ];
      for (const f of filters) {
        // An OR with an entryDN nothing has defeats every shortcut: the planner must agree with the full pass.
        assert.deepEqual(await dns(v, ada, f), await dns(v, ada, `(|${f}(entryDN=cn=none))`), f);
      }
      assert.deepEqual(await dns(v, ada, `(&(objectClass=posixGroup)(gidNumber=${uid.ada}))`), [pg('ada')]);
      assert.deepEqual(await dns(v, ada, '(&(objectClass=posixGroup)(memberUid=ada))'), [pg('ada'), pg('team')]);
      assert.deepEqual(await dns(v, ada, '(objectClass=posixGroup)'), [pg('ada'), pg('ben'), pg('team')]);
      assert.deepEqual(await dns(v, ada, '(&(objectClass=posixGroup)(cn=cleo))'), [], 'cleo has a primary group of her own choosing');
      assert.deepEqual(await dns(v, ada, '(objectClass=*)', pg('ben'), 'base'), [pg('ben')]);
      assert.deepEqual(await dns(v, ada, '(objectClass=*)', `ou=groups,${BASE}`, 'one'), [pg('ada'), pg('ben'), pg('team')]);
      assert.equal(await v.compare(pg('ada'), 'gidNumber', String(uid.ada), ada), true);
      assert.equal(await v.compare(pg('ada'), 'memberUid', 'ben', ada), false);
    });

    it('shows a private group where its user is visible, and only there', async () => {
      const private_ = view({}, { usersSeeOthers: false });
      const ben = await bindAs(private_, 'ben');
      assert.deepEqual(await dns(private_, ben, '(objectClass=posixGroup)'), [pg('ben')]);
      assert.deepEqual(await dns(private_, ben, `(gidNumber=${uid.ada})`), []);
      const open = view({}, { anonymousRead: true });
      assert.deepEqual(await dns(open, { kind: 'anonymous' }, '(memberUid=ada)'), [pg('ada'), pg('team')]);
    });

    it('is gone when a real group takes its place, and is not served where a group would share its user\'s DN', async () => {
      const v = view();
      const ada = await bindAs(v, 'ada');
      const explicit = await admin.groups().create({ displayName: 'ben', mailNickname: 'ben', keyhavenPosix: { gidNumber: uid.ben! } });
      const served = await dns(v, ada, `(&(objectClass=posixGroup)(gidNumber=${uid.ben}))`);
      assert.deepEqual(served, [pg('ben')]);
      const [entry] = await search(v, ada, '(objectClass=*)', pg('ben'), 'base');
      assert.deepEqual(entry!.attributes.get('entryuuid')!.values, [explicit.id], 'the real group, not the private one');
      await admin.groups().delete(explicit.id);

      const adds = view({
        ldapBaseDn: BASE, ldapUserDnTemplate: `CN={username},OU=AADDC Users,${BASE}`, ldapGroupDnTemplate: `CN={name},OU=AADDC Users,${BASE}`,
      });
      const adaAd = (await adds.bind(`CN=ada,OU=AADDC Users,${BASE}`, GOOD_PASSWORD, SOURCE)).viewer;
      assert.deepEqual(await dns(adds, adaAd, '(objectClass=posixGroup)'), [`CN=team,OU=AADDC Users,${BASE}`]);
      assert.deepEqual(await dns(adds, adaAd, `(gidNumber=${uid.ada})`), [`CN=ada,OU=AADDC Users,${BASE}`], 'the user only');
    });
  });
}
