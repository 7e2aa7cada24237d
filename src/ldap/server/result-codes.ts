// What the face answers for an operation that failed: the LdapResultError the view or the face
// threw, or a core error mapped by the one mapping (../ldap-errors.ts); anything else is a bug:
// `other` (80) with a generic message, and the error is logged.
import type { Logger } from 'pino';
import { LDAP_RESULT, LdapResultError } from '../ldap-directory.js';
import { ldapError } from '../ldap-errors.js';
import type { LdapResult } from './response-encoder.js';

export function toLdapResult(err: unknown, logger: Logger, operation: string): LdapResult {
  const mapped = ldapError(err, operation);
  if (mapped instanceof LdapResultError) {
    return { resultCode: mapped.resultCode, matchedDn: mapped.matchedDn, diagnosticMessage: mapped.message };
  }
  logger.error({ err, operation }, 'LDAP operation failed');
  return { resultCode: LDAP_RESULT.other, diagnosticMessage: 'internal error' };
}
