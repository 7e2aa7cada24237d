// The LDAP protocol face against a tiny in-test LdapDirectory (the interface under the face):
// binds and their refusals, search scopes/limits/attribute selection/paging, compare, the
// extended operations, StartTLS and LDAPS, controls, writes refused, and framing limits.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Control, InvalidCredentialsError } from 'ldapts';
import pino from 'pino';
import { ensureTls, type TlsMaterial } from '../../src/crypto/tls-ca.js';
import { LDAP_RESULT, LdapResultError, type BindResult, type LdapDirectory, type LdapEntry, type LdapViewer, type SearchParams } from '../../src/ldap/ldap-directory.js';
import { LdapServer } from '../../src/ldap/server/ldap-server.js';
import type { LdapLimits } from '../../src/ldap/server/operation-context.js';

const BASE = 'dc=example,dc=com';

function entry(dn: string, attrs: Record<string, (string | Buffer)[]>): LdapEntry {
  return { dn, attributes: new Map(Object.entries(attrs).map(([name, values]) => [name.toLowerCase(), { name, values }])) };
}

const people = Array.from({ length: 25 }, (_, i) =>
  entry(`uid=user${i},ou=people,${BASE}`, {
    objectClass: ['inetOrgPerson'],
    uid: [`user${i}`],
    cn: [`User ${i}`],
    memberOf: [`cn=staff,ou=groups,${BASE}`],
    entryUUID: [`00000000-0000-0000-0000-0000000000${String(i).padStart(2, '0')}`],
  }),
);

/** A fake directory: users with password "secret-<uid>", filters evaluated by @ldapjs/filter. */
class FakeDirectory implements LdapDirectory {
  passwordChanges: { viewer: LdapViewer; user?: string; old?: string; new?: string }[] = [];
  slow = false;
  rootDse(): LdapEntry {
    return entry('', { objectClass: ['top'], namingContexts: [BASE], supportedLDAPVersion: ['3'], subschemaSubentry: ['cn=Subschema'] });
  }
  subschema(): LdapEntry {
    return entry('cn=Subschema', { objectClass: ['subschema'] });
  }
  async bind(dn: string, password: string): Promise<BindResult> {
    const user = people.find((p) => p.dn.toLowerCase() === dn.toLowerCase());
    if (!user || password !== `secret-${user.attributes.get('uid')!.values[0]}`) throw new LdapResultError(LDAP_RESULT.invalidCredentials, 'invalid credentials');
    return { viewer: { kind: 'user', id: String(user.attributes.get('uid')!.values[0]), dn: user.dn } };
  }
  async *search(params: SearchParams): AsyncIterable<LdapEntry> {
    if (params.baseDn.toLowerCase() === 'cn=boom') throw new Error('database exploded with secret details');
    if (!params.baseDn.toLowerCase().endsWith(BASE)) throw new LdapResultError(LDAP_RESULT.noSuchObject, 'no such object');
    for (const p of people) {
      if (this.slow) await new Promise((r) => setTimeout(r, 200));
      const object: Record<string, string[]> = {};
      for (const a of p.attributes.values()) object[a.name] = a.values.map(String);
      if ((params.filter as unknown as { matches(o: object, s: boolean): boolean }).matches(object, false)) yield p;
    }
  }
  async compare(dn: string, attribute: string, value: string): Promise<boolean> {
    const p = people.find((e) => e.dn === dn);
    if (!p) throw new LdapResultError(LDAP_RESULT.noSuchObject, 'no such object');
    return (p.attributes.get(attribute.toLowerCase())?.values ?? []).some((v) => String(v) === value);
  }
  async changePassword(viewer: LdapViewer, user?: string, old?: string, newPassword?: string): Promise<string | undefined> {
    if (viewer.kind === 'anonymous') throw new LdapResultError(LDAP_RESULT.insufficientAccessRights, 'bind first');
    this.passwordChanges.push({ viewer, user, old, new: newPassword });
    return newPassword === undefined ? 'generated-Passw0rd!' : undefined;
  }
}

const limits: LdapLimits = {
  anonymousBind: false,
  requireTlsForBind: true,
  maxMessageBytes: 64 * 1024,
  maxConnections: 50,
  maxOperationsPerConnection: 4,
  idleTimeoutMs: 30_000,
  sizeLimit: 10,
  timeLimitMs: 5_000,
};

describe('LDAP protocol face', () => {
  const directory = new FakeDirectory();
  let server: LdapServer;
  let tls: TlsMaterial;
  let dir: string;
  let port: number;
  let tlsPort: number;
  const clients: Client[] = [];
  const client = (url = `ldap://127.0.0.1:${port}`) => {
    const c = new Client(url.startsWith('ldaps:') ? { url, tlsOptions: { ca: tls.caCertPem } } : { url });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-ldap-'));
    tls = await ensureTls({ tlsDir: dir, extraNames: [], hostname: 'localhost', vaultDnsSuffix: 'vault.localhost' });
    server = new LdapServer({ directory, tls, limits, logger: pino({ level: 'silent' }) });
    port = await server.listenLdap(0, '127.0.0.1');
    tlsPort = await server.listenLdaps(0, '127.0.0.1');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds with the right password and answers WhoAmI', async () => {
    const c = client();
    assert.equal((await c.exop('1.3.6.1.4.1.4203.1.11.3')).value ?? '', '');
    await c.bind(`uid=user1,ou=people,${BASE}`, 'secret-user1');
    assert.equal((await c.exop('1.3.6.1.4.1.4203.1.11.3')).value, `dn:uid=user1,ou=people,${BASE}`);
    await assert.rejects(c.bind(`uid=user1,ou=people,${BASE}`, 'wrong'), InvalidCredentialsError);
    // A failed bind leaves the connection anonymous (RFC 4513 §4).
    assert.equal((await c.exop('1.3.6.1.4.1.4203.1.11.3')).value ?? '', '');
  });

  it('refuses anonymous, unauthenticated and SASL binds', async () => {
    const c = client();
    await assert.rejects(c.bind('', ''), (e: { code: number }) => e.code === LDAP_RESULT.inappropriateAuthentication);
    await assert.rejects(c.bind(`uid=user1,ou=people,${BASE}`, ''), (e: { code: number }) => e.code === LDAP_RESULT.unwillingToPerform);
    await assert.rejects(c.bind('PLAIN', 'x'), (e: { code: number }) => e.code === LDAP_RESULT.authMethodNotSupported);
  });

  it('searches with scopes, attribute selection, typesOnly and size limits', async () => {
    const c = client();
    const dse = await c.search('', { scope: 'base', attributes: ['+'] });
    assert.deepEqual(dse.searchEntries[0]!.namingContexts, BASE);
    const some = await c.search(BASE, { filter: '(uid=user3)', attributes: ['CN', 'cn', 'uid;binary', 'nonexistent'] });
    assert.equal(some.searchEntries.length, 1);
    // ldapts lists requested attributes it did not receive as empty arrays.
    assert.deepEqual(Object.entries(some.searchEntries[0]!).filter(([, v]) => v.length > 0).map(([k]) => k).sort(), ['cn', 'dn']);
    const all = await c.search(BASE, { filter: '(uid=user4)' });
    assert.ok('memberOf' in all.searchEntries[0]! && !('entryUUID' in all.searchEntries[0]!));
    const plus = await c.search(BASE, { filter: '(uid=user4)', attributes: ['*', '+'] });
    assert.ok('entryUUID' in plus.searchEntries[0]!);
    const none = await c.search(BASE, { filter: '(uid=user4)', attributes: ['1.1'] });
    assert.deepEqual(Object.entries(none.searchEntries[0]!).filter(([, v]) => v.length > 0).map(([k]) => k), ['dn']);
    const types = await c.search(BASE, { filter: '(uid=user4)', attributes: ['uid'], returnAttributeValues: false });
    assert.deepEqual(types.searchEntries[0]!.uid, []);
    await assert.rejects(c.search(BASE, { filter: '(objectClass=*)' }), (e: { code: number }) => e.code === LDAP_RESULT.sizeLimitExceeded);
    // ldapts accepts sizeLimitExceeded when it set the limit itself.
    assert.equal((await c.search(BASE, { filter: '(objectClass=*)', sizeLimit: 3 })).searchEntries.length, 3);
    await assert.rejects(c.search('o=elsewhere', { filter: '(objectClass=*)' }), (e: { code: number }) => e.code === LDAP_RESULT.noSuchObject);
    await assert.rejects(c.search('cn=boom', {}), (e: { code: number; message: string }) => e.code === LDAP_RESULT.other && !e.message.includes('secret'));
  });

  it('pages through all entries past the server size limit (RFC 2696)', async () => {
    const c = client();
    const pages: number[] = [];
    for await (const page of c.searchPaginated(BASE, { filter: '(objectClass=*)', paged: { pageSize: 7 } })) pages.push(page.searchEntries.length);
    assert.deepEqual(pages, [7, 7, 7, 4]);
    const whole = await c.search(BASE, { filter: '(objectClass=*)', paged: { pageSize: 100 } });
    assert.equal(whole.searchEntries.length, 25);
  });

  it('compares, refuses writes, and handles controls', async () => {
    const c = client();
    assert.equal(await c.compare(`uid=user2,ou=people,${BASE}`, 'uid', 'user2'), true);
    assert.equal(await c.compare(`uid=user2,ou=people,${BASE}`, 'uid', 'user3'), false);
    await assert.rejects(c.add(`uid=new,${BASE}`, { uid: 'new' }), (e: { code: number }) => e.code === LDAP_RESULT.unwillingToPerform);
    await assert.rejects(c.del(`uid=user2,ou=people,${BASE}`), (e: { code: number }) => e.code === LDAP_RESULT.unwillingToPerform);
    const critical = new Control('1.2.3.4.5', { critical: true });
    await assert.rejects(c.search(BASE, { filter: '(uid=user1)' }, critical), (e: { code: number }) => e.code === LDAP_RESULT.unavailableCriticalExtension);
    const harmless = new Control('1.3.6.1.4.1.42.2.27.8.5.1', { critical: false });
    assert.equal((await c.search(BASE, { filter: '(uid=user1)' }, harmless)).searchEntries.length, 1);
    await assert.rejects(c.exop('1.2.3.4'), (e: { code: number }) => e.code === LDAP_RESULT.protocolError);
  });

  it('StartTLS and LDAPS carry binds and password changes', async () => {
    const c = client(`ldap://localhost:${port}`);
    await c.startTLS({ ca: tls.caCertPem, servername: 'localhost' });
    await assert.rejects(c.startTLS({ ca: tls.caCertPem }), (e: { code: number }) => e.code === LDAP_RESULT.operationsError);
    await c.bind(`uid=user5,ou=people,${BASE}`, 'secret-user5');
    const res = await c.search(BASE, { filter: '(uid=user5)' });
    assert.equal(res.searchEntries.length, 1);
    const s = client(`ldaps://localhost:${tlsPort}`);
    await s.bind(`uid=user6,ou=people,${BASE}`, 'secret-user6');
    const generated = await s.exop('1.3.6.1.4.1.4203.1.11.1');
    assert.ok(generated.value?.includes('generated-Passw0rd!'));
    assert.equal(directory.passwordChanges.at(-1)?.viewer.kind, 'user');
  });

  it('frames strictly: a 1 GB length prefix and indefinite lengths end the connection with a notice', async () => {
    for (const bytes of [
      Buffer.from([0x30, 0x84, 0x40, 0x00, 0x00, 0x00]),
      Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01]),
      Buffer.from([0x04, 0x01, 0x00]),
    ]) {
      const received = await rawExchange(port, bytes);
      // ExtendedResponse with messageID 0 and the Notice of Disconnection OID.
      assert.ok(received.includes(Buffer.from('1.3.6.1.4.1.1466.20036')), received.toString('hex'));
    }
  });

  it('refuses plain-text binds and password changes from other machines until TLS is up', async (t) => {
    const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!address) return t.skip('no non-loopback address on this machine');
    const remote = new LdapServer({ directory, tls, limits, logger: pino({ level: 'silent' }) });
    const remotePort = await remote.listenLdap(0, address);
    try {
      const c = client(`ldap://${address}:${remotePort}`);
      await assert.rejects(c.bind(`uid=user1,ou=people,${BASE}`, 'secret-user1'), (e: { code: number }) => e.code === LDAP_RESULT.confidentialityRequired);
      await assert.rejects(c.exop('1.3.6.1.4.1.4203.1.11.1'), (e: { code: number }) => e.code === LDAP_RESULT.confidentialityRequired);
      await c.startTLS({ ca: tls.caCertPem, servername: 'localhost' });
      await c.bind(`uid=user1,ou=people,${BASE}`, 'secret-user1');
      await c.unbind();
    } finally {
      await remote.close();
    }
  });

  it('answers abandon with silence and stops the search', async () => {
    directory.slow = true;
    try {
      // A subtree search (id 2) abandoned (id 3) after its first entry, then WhoAmI (id 4): the
      // search never completes, and WhoAmI still answers (RFC 4511 §4.11).
      const tlv = (tag: number, ...parts: Buffer[]) => { const b = Buffer.concat(parts); return Buffer.concat([Buffer.from([tag, b.length]), b]); };
      const octets = (x: string, tag = 0x04) => tlv(tag, Buffer.from(x));
      const int = (n: number, tag = 0x02) => tlv(tag, Buffer.from([n]));
      const searchPdu = tlv(0x30, int(2), tlv(0x63, octets(BASE), int(2, 0x0a), int(0, 0x0a), int(0), int(0), tlv(0x01, Buffer.from([0])), octets('objectClass', 0x87), tlv(0x30)));
      const abandonPdu = tlv(0x30, int(3), tlv(0x50, Buffer.from([2])));
      const whoAmIPdu = tlv(0x30, int(4), tlv(0x77, octets('1.3.6.1.4.1.4203.1.11.3', 0x80)));
      const received = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = netConnect(port, '127.0.0.1', () => socket.write(searchPdu));
        socket.on('data', (d) => {
          chunks.push(d);
          if (chunks.length === 1) socket.write(Buffer.concat([abandonPdu, whoAmIPdu]));
        });
        socket.on('error', reject);
        setTimeout(() => { socket.destroy(); resolve(Buffer.concat(chunks)); }, 1500);
      });
      const entries = received.toString('latin1').split('uid=user').length - 1;
      assert.ok(entries >= 1 && entries < 5, `entries after abandon: ${entries}`);
      assert.ok(!received.includes(Buffer.from([0x02, 0x01, 0x02, 0x65])), 'no SearchResultDone for the abandoned search');
      assert.ok(received.includes(Buffer.from([0x02, 0x01, 0x04, 0x78])), 'WhoAmI answered');
      const c = client();
      // ldapts has no abandon: the search gets the time limit instead, which must end it.
      await assert.rejects(c.search(BASE, { filter: '(objectClass=*)', timeLimit: 1 }), (e: { code: number }) => e.code === LDAP_RESULT.timeLimitExceeded);
    } finally {
      directory.slow = false;
    }
  });
});

function rawExchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(new Error('server did not close')), 5000);
  });
}
