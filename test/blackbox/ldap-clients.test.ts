// The LDAP front-end driven by real clients (issue 5, acceptance): OpenLDAP's ldapwhoami,
// ldapsearch, ldapcompare and ldappasswd from Debian's ldap-utils over plain LDAP (loopback),
// StartTLS (-ZZ) and LDAPS, trusting the test CA through LDAPTLS_CACERT (set by the test
// runner); and the ldapts npm client. Users are made through the Graph-shaped API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool as tool } from '../helpers/ldap-tools.js';
import { Attribute, Change, Client, Control, InvalidCredentialsError } from 'ldapts';
import { runCli, serverArgs, tempHome, TEST_CA_CERT } from '../helpers/server-process.js';
import { createUser, startGraphSuite, type GraphSuite } from './graph-test-client.js';

const BASE = 'dc=keyhaven,dc=local';
const userDn = (name: string) => `uid=${name},ou=people,${BASE}`;

describe('LDAP with real clients', () => {
  let suite: GraphSuite;
  let plain: string;
  let ldaps: string;
  const alicePassword = 'Quartz-ldap-Passw0rd-1';
  const bobPassword = 'Maple-ldap-Passw0rd-1';

  before(async () => {
    suite = await startGraphSuite();
    plain = `ldap://localhost:${suite.server.ldapPort}`;
    ldaps = `ldaps://localhost:${suite.server.ldapsPort}`;
    await createUser(suite, 'alice', alicePassword);
    await createUser(suite, 'bob', bobPassword);
  });
  after(async () => {
    await suite?.stop();
  });

  it('ldapwhoami over plain loopback, StartTLS (-ZZ) and LDAPS', async () => {
    for (const args of [['-H', plain], ['-ZZ', '-H', plain], ['-H', ldaps]]) {
      const r = await tool('ldapwhoami', ['-x', ...args, '-D', userDn('alice'), '-w', alicePassword]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().toLowerCase(), `dn:${userDn('alice')}`.toLowerCase());
    }
    const wrong = await tool('ldapwhoami', ['-x', '-ZZ', '-H', plain, '-D', userDn('alice'), '-w', 'not-the-password']);
    assert.equal(wrong.code, 49, wrong.stderr);
    const unknown = await tool('ldapwhoami', ['-x', '-ZZ', '-H', plain, '-D', userDn('nobody'), '-w', 'whatever']);
    assert.equal(unknown.code, 49, unknown.stderr);
    // Anonymous bind is off by default: ldapsearch -x without -D binds anonymously first.
    const anonymous = await tool('ldapwhoami', ['-x', '-ZZ', '-H', plain]);
    assert.equal(anonymous.code, 48, anonymous.stderr);
  });

  it('ldapsearch: Root DSE, a user, paging (RFC 2696) and an unknown critical control', async () => {
    const auth = ['-x', '-ZZ', '-H', plain, '-D', userDn('alice'), '-w', alicePassword, '-LLL'];
    const dse = await tool('ldapsearch', [...auth, '-b', '', '-s', 'base', '+']);
    assert.equal(dse.code, 0, dse.stderr);
    assert.match(dse.stdout, /supportedLDAPVersion: 3/i);
    const one = await tool('ldapsearch', [...auth, '-b', BASE, '(uid=alice)', 'uid', 'cn', 'userCertificate;binary', 'nosuchattribute']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`^dn: ${userDn('alice')}$`, 'mi'));
    assert.match(one.stdout, /^uid: alice$/m);
    assert.doesNotMatch(one.stdout, /userPassword|nosuchattribute/i);
    const paged = await tool('ldapsearch', [...auth, '-E', 'pr=1/noprompt', '-b', BASE, '(objectClass=person)', '1.1']);
    assert.equal(paged.code, 0, paged.stderr);
    for (const name of ['admin', 'alice', 'bob']) assert.match(paged.stdout, new RegExp(`^dn: uid=${name},`, 'mi'));
    const critical = await tool('ldapsearch', [...auth, '-e', '!1.2.3.4.5.6', '-b', BASE, '(uid=alice)']);
    assert.equal(critical.code, 12, critical.stderr);
  });

  it('ldapcompare answers TRUE and FALSE', async () => {
    const auth = ['-x', '-H', ldaps, '-D', userDn('alice'), '-w', alicePassword];
    const yes = await tool('ldapcompare', [...auth, userDn('alice'), 'uid:alice']);
    assert.equal(yes.code, 6, yes.stderr);
    assert.match(yes.stdout, /TRUE/);
    const no = await tool('ldapcompare', [...auth, userDn('alice'), 'uid:bob']);
    assert.equal(no.code, 5, no.stderr);
    assert.match(no.stdout, /FALSE/);
  });

  it('ldappasswd changes the bound user\'s own password (RFC 3062)', async () => {
    const next = 'Cedar-ldap-Passw0rd-2-new';
    const r = await tool('ldappasswd', ['-x', '-ZZ', '-H', plain, '-D', userDn('bob'), '-w', bobPassword, '-a', bobPassword, '-s', next]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tool('ldapwhoami', ['-x', '-H', ldaps, '-D', userDn('bob'), '-w', bobPassword])).code, 49);
    assert.equal((await tool('ldapwhoami', ['-x', '-H', ldaps, '-D', userDn('bob'), '-w', next])).code, 0);
  });

  it('writes over LDAP are refused with unwillingToPerform', async () => {
    const client = new Client({ url: ldaps, tlsOptions: { ca: readFileSync(TEST_CA_CERT) } });
    await client.bind(userDn('alice'), alicePassword);
    await assert.rejects(client.add(`uid=mallory,ou=people,${BASE}`, { uid: 'mallory', objectClass: 'person' }), (e: { code: number }) => e.code === 53);
    await assert.rejects(client.del(userDn('bob')), (e: { code: number }) => e.code === 53);
    await assert.rejects(client.modify(userDn('bob'), new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['b@example.org'] }) })), (e: { code: number }) => e.code === 53);
    await assert.rejects(client.modifyDN(userDn('bob'), 'uid=robert'), (e: { code: number }) => e.code === 53);
    await client.unbind();
  });

  it('ldapts: StartTLS, bind, search, paged search, WhoAmI, and refusals', async () => {
    const client = new Client({ url: plain });
    await client.startTLS({ ca: readFileSync(TEST_CA_CERT), servername: 'localhost' });
    await assert.rejects(client.bind(userDn('alice'), 'wrong'), InvalidCredentialsError);
    await assert.rejects(client.bind(userDn('alice'), ''), (e: { code: number }) => e.code === 53);
    await client.bind(userDn('alice'), alicePassword);
    const who = await client.exop('1.3.6.1.4.1.4203.1.11.3');
    assert.equal(who.value?.toLowerCase(), `dn:${userDn('alice')}`.toLowerCase());
    const { searchEntries } = await client.search(BASE, { filter: '(|(uid=alice)(uid=bob))', attributes: ['uid'] });
    assert.deepEqual(searchEntries.map((e) => e.uid).sort(), ['alice', 'bob']);
    const pages: number[] = [];
    for await (const page of client.searchPaginated(BASE, { filter: '(objectClass=person)', attributes: ['1.1'], paged: { pageSize: 1 } })) pages.push(page.searchEntries.length);
    assert.ok(pages.length >= 3 && pages.every((n) => n <= 1), JSON.stringify(pages));
    // Unknown non-critical controls (SSSD's password-policy request) are ignored.
    await client.bind(userDn('alice'), alicePassword, new Control('1.3.6.1.4.1.42.2.27.8.5.1'));
    await client.unbind();
  });

  it('a taken LDAP port stops the start with one line', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const { home, remove } = tempHome();
    try {
      const result = await runCli([...serverArgs(home, `sqlite:${join(home, 'keyhaven.db')}`), '--ldap-port', String(port)]);
      assert.notEqual(result.code, 0);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`LDAP port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
      remove();
    }
  });
});
