// The LDIF import's plan, before any store is touched (issue 8, items 2, 4, 5): which entries
// become users, groups, kept entries and bind-only accounts, which are skipped and why, the
// naming context of each tree, and the imported values of modelled attributes kept as written.
// Bad input fails with the line number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeNamingContexts, planLdifImport } from '../../src/directory/ldif/ldif-import.js';
import { LdifError } from '../../src/directory/ldif/ldif-parser.js';

const plan = (text: string) => planLdifImport(text, { directoryDomain: 'keyhaven.local' });
const user = (dn: string, uid: string, ...more: string[]) => [`dn: ${dn}`, 'objectClass: inetOrgPerson', `uid: ${uid}`, `cn: ${uid}`, 'sn: X', ...more, ''].join('\n');

test('a tree with its base entry: one naming context, the base and containers kept', () => {
  const p = plan([
    'dn: dc=example,dc=org\nobjectClass: domain\ndc: example\n',
    'dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n',
    user('uid=a,ou=people,dc=example,dc=org', 'a'),
  ].join('\n'));
  assert.deepEqual(p.namingContexts, ['dc=example,dc=org']);
  assert.deepEqual(p.plans.map((x) => x.kind), ['entry', 'entry', 'user']);
  assert.deepEqual(p.skipped, []);
});

test('naming contexts without the base entry: the dc= run above OUs, a lone user\'s parent, two trees', () => {
  const ad = plan([
    'dn: OU=Staff,DC=corp,DC=example\nobjectClass: organizationalUnit\nou: Staff\n',
    'dn: OU=Groups,DC=corp,DC=example\nobjectClass: organizationalUnit\nou: Groups\n',
    user('CN=Jo,OU=Staff,DC=corp,DC=example', 'jo'),
  ].join('\n'));
  assert.deepEqual(ad.namingContexts, ['DC=corp,DC=example']);
  assert.deepEqual(plan(user('uid=a,ou=people,o=Example', 'a')).namingContexts, ['ou=people,o=Example']);
  const two = plan([user('uid=a,ou=people,dc=one,dc=org', 'a'), user('uid=b,ou=people,dc=two,dc=org', 'b')].join('\n'));
  assert.deepEqual(two.namingContexts, ['dc=one,dc=org', 'dc=two,dc=org']);
});

test('mergeNamingContexts keeps the first spelling and drops suffixes under another', () => {
  assert.deepEqual(mergeNamingContexts(['dc=example,dc=org'], ['DC=Example,DC=Org', 'ou=x,dc=example,dc=org', 'o=other']), ['dc=example,dc=org', 'o=other']);
  assert.deepEqual(mergeNamingContexts(['ou=x,dc=example,dc=org'], ['dc=example,dc=org']), ['dc=example,dc=org']);
});

test('skipped entries by DN with the reason: computer, Root DSE, subschema, cn=config', () => {
  const p = plan([
    'dn: CN=WS01,OU=Computers,DC=corp,DC=example\nobjectClass: user\nobjectClass: computer\nsAMAccountName: WS01$\n',
    'dn: cn=Subschema\nobjectClass: subschema\ncn: Subschema\n',
    'dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n',
  ].join('\n'));
  assert.deepEqual(p.skipped.map((s) => [s.dn, s.line]), [['CN=WS01,OU=Computers,DC=corp,DC=example', 1], ['cn=Subschema', 6], ['olcDatabase={1}mdb,cn=config', 10]]);
  assert.match(p.skipped[0]!.reason, /computer account/);
  assert.match(p.skipped[1]!.reason, /subschema/);
  assert.match(p.skipped[2]!.reason, /cn=config/);
  assert.deepEqual(p.plans, []);
});

test('an entry with userPassword that is neither user nor group is a bind-only account; bad hashes refused with the line', () => {
  const p = plan('dn: cn=reader,dc=example,dc=org\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: {SSHA}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n');
  const entry = p.plans[0]!;
  assert.equal(entry.kind, 'entry');
  assert.ok(entry.kind === 'entry' && entry.account);
  assert.equal(entry.kind === 'entry' && entry.account?.passwordKind, 'SSHA');
  assert.equal(entry.kind === 'entry' && entry.account?.displayName, 'reader');
  // The password is never among the attributes served.
  assert.doesNotMatch(entry.kind === 'entry' ? entry.attributes : '', /userPassword|SSHA/i);
  assert.throws(() => plan('dn: cn=r,dc=x\nobjectClass: person\ncn: r\nsn: r\nuserPassword: {MD5}xyz\n'), (e: unknown) => e instanceof LdifError && e.line === 5);
  assert.throws(() => plan('dn: cn=r,dc=x\nobjectClass: person\ncn: r\nsn: r\nuserPassword:\n'), (e: unknown) => e instanceof LdifError && /empty/.test(e.message));
});

test('modelled attributes keep their imported values as written', () => {
  const p = plan(user('cn=Grace Hopper,ou=people,dc=x', 'Grace', 'cn: Amazing Grace', 'displayName: G.', 'mail: a@x.org', 'mail: b@x.org'));
  const u = p.plans[0]!;
  assert.equal(u.kind, 'user');
  assert.deepEqual(JSON.parse(u.kind === 'user' ? u.sourceAttributes : '{}'), {
    uid: ['Grace'], cn: ['Grace', 'Amazing Grace'], sn: ['X'], displayName: ['G.'], mail: ['a@x.org', 'b@x.org'],
  });
});

test('a kept entry is bounded like a user\'s extra attributes', () => {
  const big = Array.from({ length: 300 }, (_, i) => `description: ${'x'.repeat(1000)} ${i}`).join('\n');
  assert.throws(() => plan(`dn: ou=big,dc=x\nobjectClass: organizationalUnit\nou: big\n${big}\n`), (e: unknown) => e instanceof LdifError && e.line === 1 && /KiB/.test(e.message));
});
