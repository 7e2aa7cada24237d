// The one mapping of core errors to LDAP results (src/ldap/ldap-errors.ts, RFC 4511 §4.1.9):
// by code where a code has an LDAP meaning of its own, else by kind, in the terms of the
// operation; bugs and Internal errors pass through for the face to log and answer 80.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConflictError, ForbiddenError, InternalError, InvalidInputError, KeyhavenError, LdapResultError, NotFoundError, ThrottledError, UnauthenticatedError, UnavailableError,
} from '../../src/errors.js';
import { BIND_DISABLED, BIND_INVALID, BIND_LOCKED, ldapError } from '../../src/ldap/ldap-errors.js';

const mapped = (err: unknown, op: string) => {
  const r = ldapError(err, op);
  assert.ok(r instanceof LdapResultError, `${String(err)} in ${op} → ${String(r)}`);
  return { code: r.resultCode, message: r.message };
};

describe('LDAP error mapping', () => {
  it('is one of the core errors, its kind following the result code', () => {
    const cases: [number, KeyhavenError['kind']][] = [[32, 'NotFound'], [50, 'Forbidden'], [49, 'Unauthenticated'], [68, 'Conflict'], [20, 'Conflict'], [51, 'Throttled'], [52, 'Unavailable'], [19, 'InvalidInput'], [2, 'InvalidInput'], [80, 'Internal']];
    for (const [code, kind] of cases) {
      const e = new LdapResultError(code, 'x', 'dc=example');
      assert.ok(e instanceof KeyhavenError);
      assert.equal(e.kind, kind, String(code));
      assert.equal(e.code, 'KH_LDAP_RESULT');
      assert.equal(e.matchedDn, 'dc=example');
    }
    const thrown = new LdapResultError(34, 'not a DN');
    assert.equal(ldapError(thrown, 'search'), thrown, 'an LDAP answer stays as it is');
  });

  it('answers a failed bind as Active Directory does: 49 with the data code, 52 when unavailable', () => {
    assert.deepEqual(mapped(new UnauthenticatedError('KH_INVALID_CREDENTIALS', 'x'), 'bind'), { code: 49, message: BIND_INVALID });
    assert.deepEqual(mapped(new UnauthenticatedError('KH_ACCOUNT_DISABLED', 'x'), 'bind'), { code: 49, message: BIND_DISABLED });
    assert.deepEqual(mapped(new UnauthenticatedError('KH_CLIENT_DISABLED', 'x'), 'bind'), { code: 49, message: BIND_DISABLED });
    assert.deepEqual(mapped(new ThrottledError('KH_ACCOUNT_LOCKED', 'x'), 'bind'), { code: 49, message: BIND_LOCKED });
    assert.equal(mapped(new UnavailableError('KH_STORAGE_CLOSED', 'x'), 'bind').code, 52);
    assert.equal(mapped(new NotFoundError('KH_USER_NOT_FOUND', 'x'), 'bind').code, 80);
  });

  it('answers writes by code, then by kind', () => {
    assert.equal(mapped(new ConflictError('KH_MEMBER_EXISTS', 'x'), 'write').code, 20);
    assert.equal(mapped(new ConflictError('KH_GROUP_CYCLE', 'x'), 'write').code, 19);
    for (const code of ['KH_USER_NAME_TAKEN', 'KH_UPN_TAKEN', 'KH_GROUP_NAME_TAKEN', 'KH_POSIX_ID_TAKEN']) assert.equal(mapped(new ConflictError(code, 'x'), 'write').code, 68, code);
    assert.equal(mapped(new ConflictError('KH_LAST_GLOBAL_ADMIN', 'x'), 'write').code, 53);
    assert.equal(mapped(new InvalidInputError('KH_ATTRIBUTE_INVALID', 'x'), 'write').code, 19);
    assert.equal(mapped(new ForbiddenError('KH_FORBIDDEN', 'x'), 'write').code, 50);
    assert.equal(mapped(new UnauthenticatedError('KH_CALLER_INACTIVE', 'x'), 'write').code, 50);
    assert.equal(mapped(new NotFoundError('KH_USER_NOT_FOUND', 'x'), 'write').code, 32);
  });

  it('answers reads refused by the directory with insufficientAccessRights', () => {
    for (const op of ['search', 'compare']) {
      assert.equal(mapped(new ForbiddenError('KH_ANONYMOUS_READ_DISABLED', 'x'), op).code, 50);
      assert.equal(mapped(new ForbiddenError('KH_FORBIDDEN', 'x'), op).code, 50);
      assert.equal(mapped(new UnauthenticatedError('KH_CALLER_INACTIVE', 'x'), op).code, 50, 'disabled since the bind');
    }
  });

  it('answers a password change (extended) in RFC 3062 terms', () => {
    assert.equal(mapped(new InvalidInputError('KH_PASSWORD_TOO_SHORT', 'x'), 'extended').code, 19);
    assert.equal(mapped(new UnauthenticatedError('KH_INVALID_CREDENTIALS', 'x'), 'extended').code, 49);
    assert.equal(mapped(new ThrottledError('KH_ACCOUNT_LOCKED', 'x'), 'extended').code, 49);
    assert.equal(mapped(new ConflictError('KH_DIRECTORY_CONFLICT', 'x'), 'extended').code, 51);
    assert.equal(mapped(new UnavailableError('KH_STORAGE_CLOSED', 'x'), 'extended').code, 52);
  });

  it('leaves bugs and Internal errors to the face, and hides messages that are not to be shown', () => {
    const bug = new TypeError('x is undefined');
    assert.equal(ldapError(bug, 'search'), bug);
    const internal = new InternalError('KH_INTERNAL', 'secret detail');
    assert.equal(ldapError(internal, 'bind'), internal);
    class Hidden extends ForbiddenError {
      override readonly expose = false;
    }
    assert.equal(mapped(new Hidden('KH_FORBIDDEN', 'secret detail'), 'search').message, '');
  });
});
