// The LDAP access log (issue 8, item 8), read from the real server's standard output while
// OpenLDAP's ldap-utils drive it: each operation is one JSON line with face "ldap" at the level
// `ldapAccessLog` names (here warn, so the lines are told apart from the info log), carrying
// the connection, client, TLS, operation, bind DN, base, scope, filter, attributes, result code,
// entries and elapsed time; connections opening and closing have lines too; and no password
// used anywhere in the run (binds, a failed bind, Password Modify, an add and a modify of
// userPassword, a filter on userPassword) appears anywhere in the log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ldapTool as tool } from '../helpers/ldap-tools.js';
import { createUser, startGraphSuite, type GraphSuite } from './graph-test-client.js';

const BASE = 'dc=keyhaven,dc=local';
const userDn = (name: string) => `uid=${name},ou=people,${BASE}`;

type Line = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('LDAP access log', () => {
  let suite: GraphSuite;
  let plain: string;
  let ldaps: string;
  const alicePassword = 'Quartz-acclog-Passw0rd-1';
  const bobPassword = 'Maple-acclog-Passw0rd-2';
  const bobNext = 'Cedar-acclog-Passw0rd-3';
  const wrongPassword = 'Wrong-acclog-Guess-4';
  const carolPassword = 'Birch-acclog-Passw0rd-5';
  const carolReset = 'Aspen-acclog-Passw0rd-6';

  /** The access lines written so far. */
  const accessLines = (): Line[] =>
    suite.server.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line).filter((l) => l.face === 'ldap');
  /** Waits (bounded) until `predicate` holds for some access line: a line is written once its operation ends. */
  async function lineWhere(predicate: (l: Line) => boolean, what: string): Promise<Line> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = accessLines().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) assert.fail(`no access line for ${what}; lines:\n${accessLines().map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    suite = await startGraphSuite({ args: ['--ldap-access-log', 'warn', '--ldap-admin-writes', 'true'] });
    plain = `ldap://localhost:${suite.server.ldapPort}`;
    ldaps = `ldaps://localhost:${suite.server.ldapsPort}`;
    await createUser(suite, 'alice', alicePassword);
    await createUser(suite, 'bob', bobPassword);
  });
  after(async () => {
    await suite?.stop();
  });

  it('a StartTLS session: connection opened, startTLS, bind, whoAmI, unbind, connection closed', async () => {
    const before = Math.max(0, ...accessLines().map((l) => l.req.connection as number));
    const r = await tool('ldapwhoami', ['-x', '-ZZ', '-H', plain, '-D', userDn('alice'), '-w', alicePassword]);
    assert.equal(r.code, 0, r.stderr);
    const closed = await lineWhere((l) => l.msg === 'LDAP connection closed' && (l.req.connection as number) > before, 'the connection closing');
    const conn = closed.req.connection as number;
    const mine = accessLines().filter((l) => l.req?.connection === conn);
    assert.deepEqual(mine.map((l) => l.msg), ['LDAP connection opened', 'LDAP startTLS', 'LDAP bind', 'LDAP whoAmI', 'LDAP unbind', 'LDAP connection closed']);
    for (const l of mine) {
      assert.equal(l.level, 40, 'written at the chosen level (warn)');
      assert.equal(typeof l.time, 'string');
      assert.equal(l.req.remoteAddress, '127.0.0.1');
    }
    const [opened, startTls, bind, whoAmI] = mine as [Line, Line, Line, Line];
    assert.equal(opened.req.tls, false);
    assert.equal(typeof opened.req.remotePort, 'number');
    assert.deepEqual({ tls: startTls.req.tls, oid: startTls.req.oid, resultCode: startTls.res.resultCode }, { tls: false, oid: '1.3.6.1.4.1.1466.20037', resultCode: 0 });
    assert.equal(bind.reqId, `${conn}.${bind.req.messageId}`);
    assert.deepEqual(
      { tls: bind.req.tls, dn: bind.req.dn, bindDn: bind.req.bindDn, method: bind.req.method, resultCode: bind.res.resultCode },
      { tls: true, dn: userDn('alice'), bindDn: userDn('alice'), method: 'simple', resultCode: 0 },
    );
    assert.equal(typeof bind.responseTime, 'number');
    assert.ok(bind.responseTime >= 0 && bind.responseTime < 10_000);
    assert.deepEqual({ bindDn: whoAmI.req.bindDn, resultCode: whoAmI.res.resultCode, tls: whoAmI.req.tls }, { bindDn: userDn('alice'), resultCode: 0, tls: true });
    assert.equal(closed.res.operations, 4);
  });

  it('a failed bind: result 49, no bind DN after it', async () => {
    const r = await tool('ldapwhoami', ['-x', '-H', ldaps, '-D', userDn('alice'), '-w', wrongPassword]);
    assert.equal(r.code, 49, r.stderr);
    const line = await lineWhere((l) => l.req?.operation === 'bind' && l.res?.resultCode === 49, 'the failed bind');
    assert.deepEqual({ tls: line.req.tls, dn: line.req.dn, bindDn: line.req.bindDn }, { tls: true, dn: userDn('alice'), bindDn: '' });
    // The AD-shaped diagnostic (data 52e) that Windows-minded clients parse.
    assert.match(line.res.diagnosticMessage as string, /data 52e/);
  });

  it('a search: base, scope, filter, attributes, entries returned; a filter on userPassword is redacted', async () => {
    const auth = ['-x', '-H', ldaps, '-D', userDn('alice'), '-w', alicePassword, '-LLL'];
    const r = await tool('ldapsearch', [...auth, '-b', BASE, '-s', 'sub', '(|(uid=alice)(uid=bob))', 'uid', 'cn']);
    assert.equal(r.code, 0, r.stderr);
    const line = await lineWhere((l) => l.req?.operation === 'search' && l.req.filter === '(|(uid=alice)(uid=bob))', 'the search');
    assert.deepEqual(
      { base: line.req.base, scope: line.req.scope, attributes: line.req.attributes, bindDn: line.req.bindDn, resultCode: line.res.resultCode, entries: line.res.entries },
      { base: BASE, scope: 'sub', attributes: ['uid', 'cn'], bindDn: userDn('alice'), resultCode: 0, entries: 2 },
    );

    const probe = await tool('ldapsearch', [...auth, '-b', `ou=people,${BASE}`, '-s', 'one', `(&(uid=alice)(userPassword=${alicePassword}))`, '1.1']);
    assert.equal(probe.code, 0, probe.stderr);
    const redacted = await lineWhere((l) => l.req?.operation === 'search' && l.req.scope === 'one', 'the userPassword search');
    assert.equal(redacted.req.filter, '(&(uid=alice)(userPassword=[REDACTED]))');
    assert.deepEqual(redacted.req.attributes, ['1.1']);

    // ldapsearch -x without -D binds anonymously first; anonymous bind is off by default.
    const denied = await tool('ldapsearch', ['-x', '-H', ldaps, '-LLL', '-b', BASE, '(uid=alice)']);
    assert.equal(denied.code, 48);
    const anonymous = await lineWhere((l) => l.req?.operation === 'bind' && l.req.dn === '' && l.res?.resultCode === 48, 'the anonymous bind');
    assert.equal(anonymous.res.diagnosticMessage, 'anonymous bind is disabled');
  });

  it('a compare: dn, attribute and result, never the asserted value', async () => {
    const r = await tool('ldapcompare', ['-x', '-H', ldaps, '-D', userDn('alice'), '-w', alicePassword, userDn('bob'), 'uid:bob']);
    assert.equal(r.code, 6, r.stderr);
    const line = await lineWhere((l) => l.req?.operation === 'compare', 'the compare');
    assert.deepEqual({ dn: line.req.dn, attribute: line.req.attribute, resultCode: line.res.resultCode }, { dn: userDn('bob'), attribute: 'uid', resultCode: 6 });
    assert.ok(!JSON.stringify(line).includes('"bob"'), 'the asserted value is not logged');
  });

  it('a password modify, and an add and a modify of userPassword over LDAP', async () => {
    const r = await tool('ldappasswd', ['-x', '-ZZ', '-H', plain, '-D', userDn('bob'), '-w', bobPassword, '-a', bobPassword, '-s', bobNext]);
    assert.equal(r.code, 0, r.stderr);
    const line = await lineWhere((l) => l.req?.operation === 'passwordModify', 'the password modify');
    assert.deepEqual({ bindDn: line.req.bindDn, resultCode: line.res.resultCode, tls: line.req.tls }, { bindDn: userDn('bob'), resultCode: 0, tls: true });

    const admin = ['-x', '-H', ldaps, '-D', userDn('admin'), '-w', suite.t.adminPassword];
    const add = await tool('ldapadd', admin, [
      `dn: ${userDn('carol')}`, 'objectClass: inetOrgPerson', 'uid: carol', 'cn: Carol', 'sn: Example', `userPassword: ${carolPassword}`, '',
    ].join('\n'));
    assert.equal(add.code, 0, add.stderr);
    const mod = await tool('ldapmodify', admin, [`dn: ${userDn('carol')}`, 'changetype: modify', 'replace: userPassword', `userPassword: ${carolReset}`, ''].join('\n'));
    assert.equal(mod.code, 0, mod.stderr);
    const added = await lineWhere((l) => l.req?.operation === 'add', 'the add');
    assert.deepEqual({ dn: added.req.dn, resultCode: added.res.resultCode }, { dn: userDn('carol'), resultCode: 0 });
    assert.ok((added.req.attributes as string[]).includes('userPassword'));
    const modified = await lineWhere((l) => l.req?.operation === 'modify', 'the modify');
    assert.deepEqual(modified.req.changes, ['replace:userPassword']);
    assert.equal((await tool('ldapwhoami', ['-x', '-H', ldaps, '-D', userDn('carol'), '-w', carolReset])).code, 0);
  });

  it('no password used in this run appears anywhere in the log', async () => {
    // The JSON lines: the log. (A generated admin password is shown once on the terminal, by
    // design, in a plain-text banner that is not a log line.)
    const log = (suite.server.stdout() + suite.server.stderr()).split('\n').filter((l) => l.startsWith('{')).join('\n');
    assert.ok(accessLines().length > 20, 'the log holds the access lines');
    for (const secret of [alicePassword, bobPassword, bobNext, wrongPassword, carolPassword, carolReset, suite.t.adminPassword]) {
      assert.ok(!log.includes(secret), `a password is in the log: ${secret.slice(0, 6)}…`);
    }
  });
});
