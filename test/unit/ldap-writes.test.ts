// The value arithmetic of LDAP modify (RFC 4511 §4.6) behind ldapAdminWrites: add, delete and
// replace on an attribute's values and on a group's member ids, with the result codes a
// client expects (20 value exists, 16 no such value, 19 single-valued, 65 required).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChange, applyMembers } from '../../src/ldap/view/ldap-writes.js';

const code = (n: number) => (e: unknown) => (e as { resultCode?: number }).resultCode === n;

describe('LDAP modify value rules', () => {
  it('adds, deletes and replaces values', () => {
    const v = ['a'];
    applyChange(v, 'add', ['b'], 'sshPublicKey', false, false);
    assert.deepEqual(v, ['a', 'b']);
    applyChange(v, 'delete', ['a'], 'sshPublicKey', false, false);
    assert.deepEqual(v, ['b']);
    applyChange(v, 'replace', ['c', 'd'], 'sshPublicKey', false, false);
    assert.deepEqual(v, ['c', 'd']);
    applyChange(v, 'delete', [], 'sshPublicKey', false, false);
    assert.deepEqual(v, []);
    applyChange(v, 'replace', [], 'sshPublicKey', false, false);
    assert.deepEqual(v, []);
  });

  it('answers 20, 16, 19 and 65 where RFC 4511 and the schema say', () => {
    assert.throws(() => applyChange(['a'], 'add', ['a'], 'mail', true, false), code(20));
    assert.throws(() => applyChange(['a'], 'delete', ['b'], 'mail', true, false), code(16));
    assert.throws(() => applyChange([], 'delete', [], 'mail', true, false), code(16));
    assert.throws(() => applyChange(['a'], 'add', ['b'], 'mail', true, false), code(19));
    assert.throws(() => applyChange(['a'], 'replace', ['b', 'c'], 'mail', true, false), code(19));
    assert.throws(() => applyChange(['a'], 'delete', [], 'displayName', true, true), code(65));
    assert.throws(() => applyChange([], 'replace', ['x', 'x'], 'sshPublicKey', false, false), code(20));
  });

  it('changes member ids: duplicates 20, non-members 16', () => {
    const m = ['u1'];
    applyMembers(m, 'add', ['u2']);
    assert.deepEqual(m, ['u1', 'u2']);
    assert.throws(() => applyMembers(m, 'add', ['u1']), code(20));
    assert.throws(() => applyMembers(m, 'delete', ['u3']), code(16));
    applyMembers(m, 'delete', ['u1']);
    assert.deepEqual(m, ['u2']);
    applyMembers(m, 'replace', ['u3', 'u4']);
    assert.deepEqual(m, ['u3', 'u4']);
    applyMembers(m, 'delete', []);
    assert.deepEqual(m, []);
    assert.throws(() => applyMembers(m, 'delete', []), code(16));
  });
});
