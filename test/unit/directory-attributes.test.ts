// The directory's attribute rules: names (UPN, POSIX short names, group nicknames), POSIX
// attributes, SSH keys and the free-form extra attributes an LDIF import brings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyhavenError } from '../../src/errors.js';
import { checkExtraAttributes } from '../../src/directory/extra-attributes.js';
import { checkHomeDirectory, checkLoginShell, checkPosixId, checkSshPublicKeys } from '../../src/directory/posix-attributes.js';
import { checkGroupNickname, checkShortName, checkUserPrincipalName } from '../../src/directory/principal-names.js';

function refuses(fn: () => unknown, code: string, label = ''): void {
  assert.throws(fn, (e) => e instanceof KeyhavenError && e.code === code && e.status === 400, `${label} → ${code}`);
}

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc0Yv8dEu9ciNKTuS2RX1ExLZXb6FKkAZ3EqjOc0dmU';

describe('directory names', () => {
  it('accepts Entra-valid UPNs and refuses the rest', () => {
    for (const ok of ['a@b.c', "o'brien@example.com", 'first.last@sub.example.org', 'x_y-z!#^~@host']) assert.equal(checkUserPrincipalName(ok), ok);
    for (const bad of ['', 'noat', '@example.com', 'a@', '.lead@x.y', 'trail.@x.y', 'dou..ble@x.y', 'sp ace@x.y', 'a@b@c', 'a@-bad.com', `${'a'.repeat(65)}@x.y`, `a@${'b'.repeat(120)}.com`]) {
      refuses(() => checkUserPrincipalName(bad), 'KH_UPN_INVALID', bad);
    }
  });

  it('keeps short names POSIX-safe and away from system accounts', () => {
    assert.equal(checkShortName('Alice.Smith'), 'alice.smith');
    assert.equal(checkShortName('_svc-ci'), '_svc-ci');
    for (const bad of ['', '1abc', '-x', 'a b', 'a:b', 'ä', 'a'.repeat(33), 'x/y']) refuses(() => checkShortName(bad), 'KH_USER_NAME_INVALID', bad);
    for (const sys of ['root', 'ROOT', 'nobody', 'daemon', 'systemd-network', 'sshd']) refuses(() => checkShortName(sys), 'KH_USER_NAME_RESERVED', sys);
  });

  it('refuses group names that grant root on Linux machines', () => {
    assert.equal(checkGroupNickname('DataScience-Team'), 'DataScience-Team');
    for (const g of ['sudo', 'WHEEL', 'admin', 'docker', 'lxd', 'root', 'systemd-journal']) refuses(() => checkGroupNickname(g), 'KH_GROUP_NAME_RESERVED', g);
    for (const g of ['', '9lives', 'has space', 'a@b', 'x'.repeat(65)]) refuses(() => checkGroupNickname(g), 'KH_GROUP_NAME_INVALID', g);
  });
});

describe('POSIX attributes', () => {
  it('bounds uid/gid numbers', () => {
    assert.equal(checkPosixId(1000, 'uidNumber'), 1000);
    for (const bad of [0, 999, 65534, 65535, 2 ** 31, -5, 1.5, '10001' as unknown as number]) refuses(() => checkPosixId(bad, 'uidNumber'), 'KH_POSIX_ID_INVALID', String(bad));
  });

  it('checks home directories and shells for passwd(5) safety', () => {
    assert.equal(checkHomeDirectory('/data/home/ann'), '/data/home/ann');
    for (const bad of ['relative', '/home/../etc', '/home/a:b', '/home/a\nroot::0:0', '']) refuses(() => checkHomeDirectory(bad), 'KH_ATTRIBUTE_INVALID', bad);
    assert.equal(checkLoginShell('/usr/bin/zsh'), '/usr/bin/zsh');
    for (const bad of ['bash', '/bin/sh -c id', '/bin/../bin/sh', '/bin/$(id)']) refuses(() => checkLoginShell(bad), 'KH_ATTRIBUTE_INVALID', bad);
  });

  it('accepts plain OpenSSH keys whose blob names the same type, nothing else', () => {
    assert.deepEqual(checkSshPublicKeys([`${ED25519}  ann@laptop`]), [`${ED25519} ann@laptop`]);
    for (const bad of [
      `command="id" ${ED25519}`,
      `from="*" ${ED25519}`,
      ED25519.replace('ssh-ed25519', 'ssh-rsa'),
      'ssh-ed25519 notbase64!!',
      `${ED25519}\nssh-ed25519 AAAA`,
      'ssh-ed25519',
    ]) refuses(() => checkSshPublicKeys([bad]), 'KH_SSH_KEY_INVALID', bad);
    refuses(() => checkSshPublicKeys('one key' as unknown as string[]), 'KH_SSH_KEY_INVALID');
    refuses(() => checkSshPublicKeys(Array(33).fill(ED25519)), 'KH_SSH_KEY_INVALID');
  });
});

describe('extra attributes', () => {
  it('keeps text and marked binary values', () => {
    const json = checkExtraAttributes({ employeeNumber: ['42'], jpegPhoto: [{ base64: '/9j/4AAQ' }] });
    assert.deepEqual(JSON.parse(json), { employeeNumber: ['42'], jpegPhoto: [{ base64: '/9j/4AAQ' }] });
  });

  it('refuses password attributes, managed attributes, case duplicates, NUL and malformed values', () => {
    for (const bad of [
      { userPassword: ['{SSHA}abc'] },
      { UnicodePwd: ['x'] },
      { sambaNTPassword: ['x'] },
      { pwdHistory: ['x'] },
      { uidNumber: ['0'] },
      { memberOf: ['cn=admins'] },
      { employeeNumber: ['1'], EMPLOYEENUMBER: ['2'] },
      { employeeNumber: ['a\u0000b'] },
      { employeeNumber: [] },
      { employeeNumber: 'not a list' },
      { employeeNumber: [{ base64: 'not base64!' }] },
      { employeeNumber: [{ base64: 'AAAA', extra: 1 }] },
      { '1bad': ['x'] },
      { 'has space': ['x'] },
      ['not', 'an', 'object'],
    ]) refuses(() => checkExtraAttributes(bad), 'KH_EXTRA_ATTRIBUTES_INVALID', JSON.stringify(bad));
    refuses(() => checkExtraAttributes({ big: Array(256).fill('x'.repeat(2000)) }), 'KH_EXTRA_ATTRIBUTES_INVALID');
  });
});
