// The one place where errors become LDAP results (RFC 4511 §4.1.9, Appendix A). The view and the
// face throw LdapResultError (src/errors.ts) for what only LDAP can say; an error of the core
// (a KeyhavenError) is mapped here by its code where a code has an LDAP meaning of its own, else
// by its kind, in the terms of the operation it failed — the same refusal reads differently to
// a bind, a write and a password change. Anything else (a bug, an Internal error) is returned
// as it is: the face logs it and answers `other` (80) with a generic message
// (server/result-codes.ts), so a bug is never dressed up as a refusal.
import { isKeyhavenError, LdapResultError, type ErrorKind, type KeyhavenError } from '../errors.js';
import { LDAP_RESULT } from './ldap-directory.js';

/** The operations whose failures read differently (request-decoder.ts's request types). */
export type LdapOperation = 'bind' | 'search' | 'compare' | 'extended' | 'write' | (string & {});

// A failed bind, as Active Directory answers it: every failed simple bind is invalidCredentials
// (49), the cause only in the diagnostic's `data` code (52e wrong name or password, 533
// disabled, 775 locked out); OpenLDAP's ppolicy also answers a locked account with 49. A locked
// account is 49 with `data 775`, not unwillingToPerform (53): LDAP clients (JupyterHub, SSSD,
// PAM) treat 49 as "wrong password" and move on, and the lock applies to unknown names as much
// as known ones (the throttle counts names as typed), so 775 says nothing about whether an
// account exists. Disabled (533) is said only after the right password, as the core says it.
const ad = (data: string) => `80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data ${data}, v2580`;
export const BIND_INVALID = ad('52e');
export const BIND_DISABLED = ad('533');
export const BIND_LOCKED = ad('775');

/** Codes whose LDAP meaning is more precise than their kind's, whatever the operation. */
const BY_CODE: Record<string, number> = {
  // A member already there (RFC 4511 §4.6: adding a value the attribute has).
  KH_MEMBER_EXISTS: LDAP_RESULT.attributeOrValueExists,
  // A membership that would close a group cycle: the value breaks a constraint of the directory.
  KH_GROUP_CYCLE: LDAP_RESULT.constraintViolation,
  // A taken name or number: the entry (or one with the same naming value) already exists.
  KH_USER_NAME_TAKEN: LDAP_RESULT.entryAlreadyExists,
  KH_UPN_TAKEN: LDAP_RESULT.entryAlreadyExists,
  KH_GROUP_NAME_TAKEN: LDAP_RESULT.entryAlreadyExists,
  KH_POSIX_ID_TAKEN: LDAP_RESULT.entryAlreadyExists,
  // A caller disabled or deleted after its bind: the bind stands (RFC 4513 §5.1 has no
  // unbind-by-server), its rights do not.
  KH_CALLER_INACTIVE: LDAP_RESULT.insufficientAccessRights,
};

/** Everything else, by kind. */
const BY_KIND: Record<Exclude<ErrorKind, 'Internal'>, number> = {
  NotFound: LDAP_RESULT.noSuchObject,
  Conflict: LDAP_RESULT.unwillingToPerform,
  PreconditionFailed: LDAP_RESULT.unwillingToPerform,
  Forbidden: LDAP_RESULT.insufficientAccessRights,
  Unauthenticated: LDAP_RESULT.invalidCredentials,
  // constraintViolation (19): a password the policy refuses, a malformed value.
  InvalidInput: LDAP_RESULT.constraintViolation,
  Throttled: LDAP_RESULT.busy,
  Unavailable: LDAP_RESULT.unavailable,
};

/**
 * The LdapResultError an error answers in `operation`, or the error itself when it is not the
 * core's to answer (not a KeyhavenError, or an Internal one): the face logs those.
 */
export function ldapError(err: unknown, operation: LdapOperation): unknown {
  if (err instanceof LdapResultError) return err;
  if (!isKeyhavenError(err) || err.kind === 'Internal') return err;
  const message = err.expose ? err.message : '';
  const result = (code: number, diagnostic = message) => new LdapResultError(code, diagnostic, '', { cause: err });
  if (operation === 'bind') return bindResult(err, result);
  if (operation === 'extended') {
    // Password Modify (RFC 3062), the only extended operation that reaches the core: a wrong
    // old password, a lock or a refusal reads as a failed proof of identity.
    if (err.kind === 'InvalidInput') return result(LDAP_RESULT.constraintViolation);
    if (err.kind === 'Forbidden' || err.kind === 'Throttled' || err.kind === 'Unauthenticated') return result(LDAP_RESULT.invalidCredentials);
    if (err.kind === 'Conflict') return result(LDAP_RESULT.busy);
  }
  const byCode = BY_CODE[err.code];
  if (byCode !== undefined) return result(byCode);
  // A write by a caller who is no longer allowed is refused access, never "wrong password".
  if (operation === 'write' && err.kind === 'Unauthenticated') return result(LDAP_RESULT.insufficientAccessRights);
  return result(BY_KIND[err.kind]);
}

function bindResult(err: KeyhavenError, result: (code: number, diagnostic?: string) => LdapResultError): LdapResultError {
  if (err.kind === 'Throttled') return result(LDAP_RESULT.invalidCredentials, BIND_LOCKED);
  if (err.kind === 'Unauthenticated') {
    const disabled = err.code === 'KH_ACCOUNT_DISABLED' || err.code === 'KH_CLIENT_DISABLED';
    return result(LDAP_RESULT.invalidCredentials, disabled ? BIND_DISABLED : BIND_INVALID);
  }
  if (err.kind === 'Unavailable') return result(LDAP_RESULT.unavailable, 'the directory is unavailable; try again');
  return result(LDAP_RESULT.other, 'the bind could not be completed');
}
