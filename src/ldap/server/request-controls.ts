// Request controls (RFC 4511 §4.1.11): a control the server does not implement, or one not
// appropriate to the operation, is ignored when non-critical and answered
// unavailableCriticalExtension when critical. SSSD sends the (non-critical) password-policy
// request with every bind; it is ignored like any other unknown control.
import { LDAP_RESULT, LdapResultError } from '../ldap-directory.js';
import type { RequestControl } from './request-decoder.js';

export const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';
/** ManageDsaIT (RFC 3296): the directory holds no referrals, so honouring it changes nothing. */
const MANAGE_DSA_IT_OID = '2.16.840.1.113730.3.4.2';

const SUPPORTED: Record<string, ReadonlySet<string>> = {
  search: new Set([PAGED_RESULTS_OID, MANAGE_DSA_IT_OID]),
  compare: new Set([MANAGE_DSA_IT_OID]),
};

export function checkCriticalControls(operation: string, controls: RequestControl[]): void {
  const supported = SUPPORTED[operation];
  for (const control of controls) {
    if (control.critical && !supported?.has(control.oid)) {
      throw new LdapResultError(LDAP_RESULT.unavailableCriticalExtension, `critical control ${control.oid.slice(0, 100)} is not supported`);
    }
  }
}

export const SUPPORTED_CONTROLS = [PAGED_RESULTS_OID, MANAGE_DSA_IT_OID];
