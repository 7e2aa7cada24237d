// Python's ldap3 at its default settings against the published subschema (issue 8 item 1,
// acceptance). ldap3 reads cn=Subschema after every bind (get_info=SCHEMA) and, with
// check_names=True, refuses on the client side any requested or filtered attribute, and any
// objectClass value, that the subschema does not list: the request is never sent. So Debian's
// python3-ldap3 (test/python/ldap3_schema_probe.py), bound anonymously, as a user and as a
// service account (client secret, Directory Readers), asks for the attributes JupyterHub's
// LDAPAuthenticator asks for (member, uniqueMember, memberUid when allowed_groups is set;
// auth_state_attributes such as employeeType, title, jpegPhoto, sshPublicKey) and for one an
// import brought that no schema defines — and each request must reach the server and be
// answered (ldap3 holds the server's SearchResultDone), against an OpenLDAP-layout and an
// Active Directory (Azure AD DS) layout Keyhaven. Every served entry is checked against the
// subschema ldap3 parsed (defined, SINGLE-VALUE kept, values of the declared syntax), and
// `ldapsearch -b cn=Subschema` lists ≥ 250 attribute types that ldap3's parser accepts, with
// the known ones exact.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool } from '../helpers/ldap-tools.js';
import { blackboxStorage, ROOT, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, graph, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'test/python/ldap3_schema_probe.py');
const HAVE_LDAP3 = existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/ldap3/__init__.py');

interface Request { label: string; base: string; scope: 'base' | 'one' | 'sub'; filter: string; attributes: string[] }
interface Answer {
  label: string;
  answered?: boolean;
  result?: number;
  client_side?: boolean;
  error?: string;
  message?: string;
  entries?: { dn: string; attributes: Record<string, string[]> }[];
}
interface ConnectionResult {
  label: string;
  bound: boolean;
  bind_result?: number;
  check_names?: boolean;
  get_info?: string;
  schema?: { attribute_types: number; object_classes: number; ldap_syntaxes: number; matching_rules: number } | null;
  requests: Answer[];
  error?: string;
}
interface ProbeOutput {
  connections: ConnectionResult[];
  conformance?: { bound: boolean; problems: unknown[]; checked: { entries: number; values: number; unchecked_syntaxes: string[] }; served_classes: string[] };
  definitions?: { oid?: string; names?: string[]; syntax?: string; single_value?: boolean; equality?: string[] | string | null; ordering?: unknown; error?: string; text?: string }[];
}

function probe(server: ServerProcess, input: Record<string, unknown>): Promise<ProbeOutput> {
  const doc = JSON.stringify({ server: { host: 'localhost', port: server.ldapPort, ca_file: TEST_CA_CERT }, ...input });
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${SCRIPT} failed: ${err.message}\nstderr: ${stderr}`));
      try {
        resolve(JSON.parse(stdout) as ProbeOutput);
      } catch {
        reject(new Error(`${SCRIPT} printed no JSON\nstdout: ${stdout.slice(0, 2000)}\nstderr: ${stderr}`));
      }
    });
    child.stdin!.end(doc);
  });
}

/** JupyterHub LDAPAuthenticator 2.x: allowed_groups' attributes, then auth_state_attributes an admin might name. */
const GROUP_ATTRIBUTES = ['member', 'uniqueMember', 'memberUid'];
const USER_ATTRIBUTES = ['employeeType', 'title', 'jpegPhoto', 'sshPublicKey', 'employeeNumber', 'departmentNumber', 'manager', 'mail', 'displayName',
  'uid', 'cn', 'sAMAccountName', 'userPrincipalName', 'memberOf', 'objectGUID', 'uidNumber', 'gidNumber', 'homeDirectory', 'loginShell', 'acmeBadge'];

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';
const PASSWORD = 'Lantern-harbor-Passw0rd-7';

interface Layout {
  name: string;
  env: Record<string, string>;
  base: string;
  userDn: (name: string) => string;
  usersBase: string;
  loginAttribute: 'uid' | 'sAMAccountName';
}

const LAYOUTS: Layout[] = [
  {
    name: 'OpenLDAP layout (uid=…,ou=people,dc=keyhaven,dc=local)',
    env: {},
    base: 'dc=keyhaven,dc=local',
    userDn: (n) => `uid=${n},ou=people,dc=keyhaven,dc=local`,
    usersBase: 'ou=people,dc=keyhaven,dc=local',
    loginAttribute: 'uid',
  },
  {
    name: 'Active Directory layout (CN=…,OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com)',
    env: {
      KEYHAVEN_LDAP_BASE_DN: 'DC=mytestdomain,DC=onmicrosoft,DC=com',
      KEYHAVEN_LDAP_USER_DN_TEMPLATE: 'CN={username},OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com',
    },
    base: 'DC=mytestdomain,DC=onmicrosoft,DC=com',
    userDn: (n) => `CN=${n},OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com`,
    usersBase: 'OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com',
    loginAttribute: 'sAMAccountName',
  },
];

describe('Python ldap3 (default get_info and check_names) and the published subschema', { skip: HAVE_LDAP3 ? false : 'Debian python3-ldap3 is not installed (.ci/run installs it)' }, () => {
  for (const layout of LAYOUTS) {
    describe(layout.name, () => {
      let home: { home: string; remove(): void };
      let storage: { url: string; drop(): Promise<void> };
      let server: ServerProcess;
      let t: Tenant;
      let serviceDn: string;
      let serviceSecret: string;
      let groupDn: string;
      let adminToken: string;
      let aliceId: string;

      before(async () => {
        home = tempHome();
        storage = await blackboxStorage(home.home);
        server = await startServerProcess({
          home: home.home, storage: storage.url,
          env: { ...layout.env, KEYHAVEN_LDAP_ANONYMOUS_BIND: 'true', KEYHAVEN_LDAP_ANONYMOUS_SEARCH: 'true' },
        });
        t = await tenantOf(server);
        const admin = await userToken(t, 'admin', t.adminPassword);
        adminToken = admin;
        const alice = await graph<{ id: string }>(t, admin, 'POST', '/users', {
          accountEnabled: true, displayName: 'Alice Liddell', givenName: 'Alice', surname: 'Liddell', mailNickname: 'alice',
          userPrincipalName: 'alice@example.org', mail: 'alice@example.org',
          passwordProfile: { password: PASSWORD, forceChangePasswordNextSignIn: false },
          keyhavenPosix: { sshPublicKeys: [SSH_KEY] },
          // As an LDIF import keeps them: inetOrgPerson attributes, and one no schema defines.
          keyhavenExtraAttributes: { employeeType: ['Researcher'], title: ['Data Scientist'], jpegPhoto: [{ base64: JPEG.toString('base64') }], acmeBadge: ['B-1042'] },
        });
        assert.equal(alice.status, 201, JSON.stringify(alice.body));
        aliceId = alice.body.id;
        // A display name outside ASCII: gecos (IA5 String) must still be of its syntax.
        const zoe = await graph(t, admin, 'POST', '/users', {
          accountEnabled: true, displayName: 'Zoë Ångström', mailNickname: 'zoe', userPrincipalName: 'zoe@example.org',
          passwordProfile: { password: PASSWORD, forceChangePasswordNextSignIn: false },
        });
        assert.equal(zoe.status, 201, JSON.stringify(zoe.body));
        const group = await graph<{ id: string }>(t, admin, 'POST', '/groups', { displayName: 'JupyterHub users', mailNickname: 'jupyter', securityEnabled: true, mailEnabled: false });
        assert.equal(group.status, 201, JSON.stringify(group.body));
        const added = await graph(t, admin, 'POST', `/groups/${group.body.id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${alice.body.id}` });
        assert.equal(added.status, 204, JSON.stringify(added.body));
        const sp = await createServicePrincipal(t, admin, 'ldap3-schema-probe');
        const roles = await graph<{ value: { id: string; displayName: string }[] }>(t, admin, 'GET', '/roleManagement/directory/roleDefinitions');
        const readers = roles.body.value.find((r) => r.displayName === 'Directory Readers')!;
        const assigned = await graph(t, admin, 'POST', '/roleManagement/directory/roleAssignments', { roleDefinitionId: readers.id, principalId: sp.servicePrincipalId, directoryScopeId: '/' });
        assert.equal(assigned.status, 201, JSON.stringify(assigned.body));
        serviceDn = `cn=${sp.appId},ou=services,${layout.base}`;
        serviceSecret = sp.secret;
        // The group's DN as the server serves it (found with ldapsearch, not assumed).
        const found = await ldapTool('ldapsearch', ['-x', '-ZZ', '-LLL', '-H', `ldap://localhost:${server.ldapPort}`, '-D', serviceDn, '-w', serviceSecret, '-b', layout.base, '(cn=jupyter)', '1.1']);
        assert.equal(found.code, 0, found.stderr);
        const dn = /^dn: (.*)$/m.exec(found.stdout)?.[1];
        assert.ok(dn, found.stdout);
        groupDn = dn;
      });
      after(async () => {
        await server?.stop();
        await storage?.drop();
        home?.remove();
      });

      const requests = (): Request[] => {
        const userDn = layout.userDn('alice');
        return [
          { label: 'user', base: layout.usersBase, scope: 'sub', filter: `(${layout.loginAttribute}=alice)`, attributes: USER_ATTRIBUTES },
          { label: 'auth_state', base: userDn, scope: 'base', filter: '(objectClass=*)', attributes: USER_ATTRIBUTES },
          { label: 'allowed_groups', base: groupDn, scope: 'base', filter: `(|(member=${userDn})(uniqueMember=${userDn})(memberUid=alice))`, attributes: GROUP_ATTRIBUTES },
          { label: 'classes', base: layout.base, scope: 'sub', filter: '(|(objectClass=groupOfUniqueNames)(objectClass=sudoRole)(objectClass=ldapPublicKey)(objectClass=shadowAccount)(&(objectClass=posixAccount)(uidNumber>=1000)))', attributes: ['objectClass', 'uniqueMember', 'sudoUser', 'shadowExpire'] },
          { label: 'imported', base: layout.base, scope: 'sub', filter: '(acmeBadge=B-10*)', attributes: ['acmeBadge'] },
        ];
      };

      it('anonymously, as a user and as a service account: every request reaches the server and is answered', async () => {
        const out = await probe(server, {
          connections: [
            { label: 'anonymous', user: null, password: null, requests: requests() },
            { label: 'user', user: layout.userDn('alice'), password: PASSWORD, requests: requests() },
            { label: 'service', user: serviceDn, password: serviceSecret, requests: requests() },
          ],
        });
        for (const c of out.connections) {
          const show = JSON.stringify(c, null, 1).slice(0, 4000);
          assert.equal(c.bound, true, show);
          assert.equal(c.check_names, true, 'ldap3 default');
          assert.equal(c.get_info, 'SCHEMA', 'ldap3 default');
          assert.ok(c.schema && c.schema.attribute_types >= 250 && c.schema.object_classes >= 50 && c.schema.ldap_syntaxes > 0 && c.schema.matching_rules > 0, show);
          for (const r of c.requests) {
            assert.equal(r.client_side, undefined, `${c.label}/${r.label} refused by ldap3 on the client side: ${r.message}`);
            assert.equal(r.answered, true, `${c.label}/${r.label} not answered by the server: ${JSON.stringify(r)}`);
            assert.equal(r.result, 0, `${c.label}/${r.label}: ${JSON.stringify(r)}`);
          }
        }
        // The server's answers carry the values (to the user's own bind and to Directory Readers).
        for (const label of ['user', 'service']) {
          const c = out.connections.find((x) => x.label === label)!;
          for (const rl of ['user', 'auth_state']) {
            const r = c.requests.find((x) => x.label === rl)!;
            assert.equal(r.entries?.length, 1, `${label}/${rl}: ${JSON.stringify(r)}`);
            const a = r.entries![0]!.attributes;
            const get = (n: string) => Object.entries(a).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
            assert.deepEqual(get('title'), ['Data Scientist'], `${label}/${rl}`);
            assert.deepEqual(get('employeeType'), ['Researcher']);
            assert.deepEqual(get('jpegPhoto'), [`base64:${JPEG.toString('base64')}`]);
            assert.deepEqual(get('sshPublicKey'), [SSH_KEY]);
            assert.deepEqual(get('acmeBadge'), ['B-1042']);
            assert.equal(get('memberOf')?.[0]?.toLowerCase(), groupDn.toLowerCase());
          }
          const groups = c.requests.find((x) => x.label === 'allowed_groups')!;
          assert.equal(groups.entries?.length, 1, JSON.stringify(groups));
          assert.deepEqual(groups.entries![0]!.attributes.memberUid, ['alice']);
          assert.equal(c.requests.find((x) => x.label === 'imported')!.entries?.length, 1, 'an imported attribute no schema defines is searchable');
        }
      });

      it('serves every attribute as the subschema declares it: defined, SINGLE-VALUE kept, values of the declared syntax', async () => {
        const out = await probe(server, { conformance: { user: serviceDn, password: serviceSecret, base: layout.base } });
        const c = out.conformance!;
        assert.equal(c.bound, true);
        assert.deepEqual(c.problems, []);
        assert.ok(c.checked.entries >= 8 && c.checked.values > 100, JSON.stringify(c.checked));
        for (const cls of ['inetOrgPerson', 'posixAccount', 'user', 'groupOfNames', 'posixGroup', 'group', 'ldapPublicKey', 'subschema']) assert.ok(c.served_classes.includes(cls), cls);
      });

      it('ldapsearch lists ≥ 250 attribute types at cn=Subschema, each of which ldap3\'s parser accepts, the known ones exact', async () => {
        const res = await ldapTool('ldapsearch', ['-x', '-ZZ', '-LLL', '-o', 'ldif-wrap=no', '-H', `ldap://localhost:${server.ldapPort}`,
          '-b', 'cn=Subschema', '-s', 'base', '(objectClass=*)', 'attributeTypes', 'objectClasses']);
        assert.equal(res.code, 0, res.stderr);
        const values = (name: string) => res.stdout.split('\n').filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
        const types = values('attributeTypes');
        const classes = values('objectClasses');
        assert.ok(types.length >= 250, String(types.length));
        assert.ok(classes.length >= 50, String(classes.length));
        assert.ok(types.includes("( 1.3.6.1.1.1.1.0 NAME 'uidNumber' DESC 'RFC2307: An integer uniquely identifying a user in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )"));
        assert.ok(types.includes("( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )"));
        assert.ok(types.includes("( 2.5.4.50 NAME 'uniqueMember' DESC 'RFC2256: unique member of a group' EQUALITY uniqueMemberMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.34 )"));
        const badge = types.filter((v) => v.includes("NAME 'acmeBadge'"));
        assert.equal(badge.length, 1, 'the imported attribute no schema defines is published once');
        assert.match(badge[0]!, /^\( 2\.25\.93290484750876975698434575656617420528\.3\.\d+ NAME 'acmeBadge' DESC '[^']+' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1\.3\.6\.1\.4\.1\.1466\.115\.121\.1\.15 \)$/);
        assert.equal(types.filter((v) => /NAME '(title|employeeType|jpegPhoto)'/.test(v)).length, 3, 'imported attributes the schema defines are not defined again');

        const parsed = (await probe(server, { definitions: [...types, ...classes] })).definitions!;
        assert.equal(parsed.length, types.length + classes.length);
        for (const p of parsed) assert.equal(p.error, undefined, `ldap3 could not parse ${p.text}: ${p.error}`);
        const oids = new Set(parsed.map((p) => p.oid));
        assert.equal(oids.size, parsed.length, 'each OID once');
        const uidNumber = parsed.find((p) => p.names?.includes('uidNumber'))!;
        assert.deepEqual([uidNumber.oid, uidNumber.syntax, uidNumber.single_value], ['1.3.6.1.1.1.1.0', '1.3.6.1.4.1.1466.115.121.1.27', true]);
        const memberUid = parsed.find((p) => p.names?.includes('memberUid'))!;
        assert.deepEqual([memberUid.oid, memberUid.single_value], ['1.3.6.1.1.1.1.12', false]);
      });

      it('publishes an imported attribute from the next read on, once an entry carries it', async () => {
        const read = async () => (await ldapTool('ldapsearch', ['-x', '-ZZ', '-LLL', '-o', 'ldif-wrap=no', '-H', `ldap://localhost:${server.ldapPort}`,
          '-b', 'cn=Subschema', '-s', 'base', '(objectClass=*)', 'attributeTypes'])).stdout;
        assert.doesNotMatch(await read(), /NAME 'acmeShift'/);
        const patched = await graph(t, adminToken, 'PATCH', `/users/${aliceId}`, {
          keyhavenExtraAttributes: { employeeType: ['Researcher'], title: ['Data Scientist'], jpegPhoto: [{ base64: JPEG.toString('base64') }], acmeBadge: ['B-1042'], acmeShift: ['night'] },
        });
        assert.equal(patched.status, 204, JSON.stringify(patched.body));
        assert.match(await read(), /NAME 'acmeShift'/);
      });
    });
  }
});
