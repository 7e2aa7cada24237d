// The private attribute list of the directory's scoped reader (src/directory/scoped-reader.ts):
// names ignoring case, prefixes for `x*`, attribute options ignored; and the Graph-shaped
// object without its private attributes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PRIVATE_ATTRIBUTES, PrivateAttributes, withoutPrivateAttributes } from '../../src/directory/scoped-reader.js';

describe('private attributes', () => {
  it('defaults to passwords, shadow*, pwd* and personal fields', () => {
    const p = new PrivateAttributes();
    for (const name of ['userPassword', 'USERPASSWORD', 'userPassword;binary', 'shadowLastChange', 'shadowExpire', 'pwdAccountLockedTime', 'homePhone', 'mobile', 'employeeNumber', 'unicodePwd']) assert.ok(p.has(name), name);
    for (const name of ['cn', 'uid', 'mail', 'title', 'employeeType', 'jpegPhoto', 'description', 'homeDirectory', 'memberOf', 'sshPublicKey']) assert.ok(!p.has(name), name);
    assert.ok(DEFAULT_PRIVATE_ATTRIBUTES.includes('shadow*'));
  });

  it('takes the configured list', () => {
    const p = new PrivateAttributes(['Title', 'home*']);
    assert.ok(p.has('title') && p.has('homeDirectory') && p.has('homePhone'));
    assert.ok(!p.has('employeeNumber'), 'the list replaces the default');
    assert.ok(!new PrivateAttributes([]).has('userPassword'), 'an empty list: nothing private');
  });

  it('strips them from a Graph-shaped object, leaving the rest as it was', () => {
    const p = new PrivateAttributes();
    const user = { id: 'u', keyhavenExtraAttributes: { employeeNumber: ['1'], departmentNumber: ['7'] }, keyhavenLdap: { sourceDn: 'uid=u', objectClasses: [], attributes: { cn: ['U'], mobile: ['+1'] } } };
    assert.deepEqual(withoutPrivateAttributes(user, p), { id: 'u', keyhavenExtraAttributes: { departmentNumber: ['7'] }, keyhavenLdap: { sourceDn: 'uid=u', objectClasses: [], attributes: { cn: ['U'] } } });
    assert.equal(user.keyhavenExtraAttributes.employeeNumber[0], '1', 'the original is untouched');
    const plain = { id: 'g', keyhavenExtraAttributes: { title: ['x'] } };
    assert.equal(withoutPrivateAttributes(plain, p), plain, 'nothing private: the same object');
  });
});
