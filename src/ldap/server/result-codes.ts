// The one place where errors become LDAP result codes (RFC 4511 §4.1.9, Appendix A). The view
// throws LdapResultError with its code; a core KeyhavenError that reaches the face is mapped by
// kind; anything else is a bug: `other` (80) with a generic message, and the error is logged.
import type { Logger } from 'pino';
import { isKeyhavenError, type ErrorKind } from '../../errors.js';
import { LDAP_RESULT, LdapResultError } from '../ldap-directory.js';
import type { LdapResult } from './response-encoder.js';

const BY_KIND: Record<ErrorKind, number> = {
  NotFound: LDAP_RESULT.noSuchObject,
  Conflict: LDAP_RESULT.unwillingToPerform,
  PreconditionFailed: LDAP_RESULT.unwillingToPerform,
  Forbidden: LDAP_RESULT.insufficientAccessRights,
  Unauthenticated: LDAP_RESULT.invalidCredentials,
  // constraintViolation (19): a password the policy refuses, a malformed value.
  InvalidInput: 19,
  Throttled: LDAP_RESULT.busy,
  Unavailable: LDAP_RESULT.unavailable,
  Internal: LDAP_RESULT.other,
};

export function toLdapResult(err: unknown, logger: Logger, operation: string): LdapResult {
  if (err instanceof LdapResultError) {
    return { resultCode: err.resultCode, matchedDn: err.matchedDn, diagnosticMessage: err.message };
  }
  if (isKeyhavenError(err) && err.kind !== 'Internal') {
    return { resultCode: BY_KIND[err.kind], diagnosticMessage: err.expose ? err.message : '' };
  }
  logger.error({ err, operation }, 'LDAP operation failed');
  return { resultCode: LDAP_RESULT.other, diagnosticMessage: 'internal error' };
}
