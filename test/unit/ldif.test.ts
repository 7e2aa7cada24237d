import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDn } from '../../src/directory/ldif/ldif-dn.js';
import { LdifError, parseLdif } from '../../src/directory/ldif/ldif-parser.js';
import { fold, ldifLine, needsBase64, writeLdif } from '../../src/directory/ldif/ldif-writer.js';

function failsAt(text: string, line: number, pattern: RegExp): void {
  assert.throws(() => parseLdif(text), (err: unknown) => {
    assert.ok(err instanceof LdifError, String(err));
    assert.equal(err.line, line, err.message);
    assert.equal(err.code, 'KH_LDIF_INVALID');
    assert.match(err.message, new RegExp(`^line ${line}: `));
    assert.match(err.message, pattern);
    return true;
  });
}

test('parses version, comments, folded lines, base64 values and DNs, options, CRLF', () => {
  const text = [
    '# a comment',
    '#  folded',
    ' comment continues',
    'version: 1',
    '',
    'dn: uid=alice,ou=pe',
    ' ople,dc=example,dc=org',
    'objectClass: inetOrgPerson',
    'cn:   Alice Smith',
    'description:: w5xuw69jb2Rl',
    'userCertificate;binary:: AAEC/w==',
    'mail: alice@',
    ' example.org',
    '',
    '',
    `dn:: ${Buffer.from('cn=Zoë,dc=example,dc=org').toString('base64')}`,
    'changetype: add',
    'cn: Zoë',
    '',
  ].join('\r\n');
  const entries = parseLdif(text);
  assert.equal(entries.length, 2);
  assert.equal(entries[0]!.dn, 'uid=alice,ou=people,dc=example,dc=org');
  assert.equal(entries[0]!.line, 6);
  const v = Object.fromEntries(entries[0]!.values.map((x) => [x.name, x]));
  assert.equal(v.cn!.value.toString(), 'Alice Smith');
  assert.equal(v.description!.value.toString(), 'Ünïcode');
  assert.equal(v.description!.base64, true);
  assert.deepEqual([...v['userCertificate;binary']!.value], [0, 1, 2, 255]);
  assert.equal(v.mail!.value.toString(), 'alice@example.org');
  assert.equal(v.mail!.line, 12);
  assert.equal(entries[1]!.dn, 'cn=Zoë,dc=example,dc=org');
  assert.equal(entries[1]!.values.length, 1);
});

test('errors name the line: bad base64, URLs, change records, missing dn, stray continuation', () => {
  failsAt('dn: cn=a,dc=x\ncn: a\njpegPhoto:: AB$=\n', 3, /not valid base64/);
  failsAt('dn: cn=a,dc=x\ncn: a\njpegPhoto:: QUJ\n', 3, /not valid base64/);
  failsAt('version: 1\n\ndn: cn=a,dc=x\njpegPhoto:< file:///etc/shadow\n', 4, /URL or file/);
  failsAt('dn: cn=a,dc=x\nchangetype: modify\nreplace: cn\n', 2, /changetype: modify/);
  failsAt('dn: cn=a,dc=x\nchangetype: delete\n', 2, /changetype: delete/);
  failsAt('dn: cn=a,dc=x\ncn: a\n\ncn: b\n', 4, /must start with "dn:"/);
  failsAt(' continued\ndn: cn=a\n', 1, /continuation/);
  failsAt('version: 2\n\ndn: cn=a\n', 1, /version 1/);
  failsAt('dn: cn=a,dc=x\nno colon here\n', 2, /attribute: value/);
  failsAt('dn: cn=a,dc=x\nbad_name: v\n', 2, /attribute description/);
  failsAt('dn: cn=a,dc=x\ncn: a\ndn: cn=b\n', 3, /second "dn:"/);
  assert.throws(() => parseLdif(Buffer.from([0x64, 0x6e, 0x3a, 0x20, 0xff, 0x0a])), /UTF-8/);
});

test('the writer base64-encodes what is not a SAFE-STRING and folds at 76 columns', () => {
  assert.equal(needsBase64(Buffer.from('plain text')), false);
  for (const v of [' leading', ':colon', '<angle', 'trailing ', 'ünïcode', 'a\nb', 'nul\u0000']) assert.equal(needsBase64(Buffer.from(v)), true, v);
  assert.equal(ldifLine('cn', 'Alice'), 'cn: Alice');
  assert.equal(ldifLine('cn', ' x'), `cn:: ${Buffer.from(' x').toString('base64')}`);
  assert.equal(ldifLine('description', ''), 'description:');
  const long = 'x'.repeat(300);
  const folded = fold(`description: ${long}`);
  const lines = folded.split('\n');
  assert.ok(lines.every((l) => l.length <= 76));
  assert.ok(lines.slice(1).every((l) => l.startsWith(' ')));
  assert.equal(lines[0]!.length, 76);
  const photo = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  const text = writeLdif([{ dn: 'cn=Zoë Ünïcode,dc=example,dc=org', attributes: [
    { name: 'objectClass', values: ['top', 'person'] }, { name: 'description', values: [long, ' spaced ', 'ü'] }, { name: 'jpegPhoto', values: [photo] },
  ] }], 'header');
  assert.ok(text.split('\n').every((l) => l.length <= 76));
  assert.match(text, /^# header\n\nversion: 1\n\ndn:: /);
  const [entry] = parseLdif(text);
  assert.equal(entry!.dn, 'cn=Zoë Ünïcode,dc=example,dc=org');
  const values = entry!.values.filter((v) => v.name === 'description').map((v) => v.value.toString());
  assert.deepEqual(values, [long, ' spaced ', 'ü']);
  assert.deepEqual(entry!.values.find((v) => v.name === 'jpegPhoto')!.value, photo);
});

test('DNs compare ignoring case, spacing and escaping', () => {
  assert.equal(normalizeDn('CN=Alice Smith, OU=Users,DC=Example,DC=Com'), normalizeDn('cn=alice smith,ou=users,dc=example,dc=com'));
  assert.equal(normalizeDn('cn=a\\2Cb,dc=x'), normalizeDn('cn=a\\,b,dc=x'));
  assert.equal(normalizeDn('cn=a+uid=b,dc=x'), normalizeDn('uid=b+cn=a,dc=x'));
  assert.notEqual(normalizeDn('cn=a,dc=x'), normalizeDn('cn=a,dc=y'));
  assert.equal(normalizeDn('not a dn'), undefined);
  assert.equal(normalizeDn('cn=a,'), undefined);
});
