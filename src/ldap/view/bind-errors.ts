// What a failed bind answers. Active Directory answers every failed simple bind with
// invalidCredentials (49) and tells the cause only in the diagnostic message's `data` code
// (52e wrong name or password, 533 disabled, 775 locked out); OpenLDAP's ppolicy also
// answers a locked account with 49. Keyhaven does the same — a locked account is 49 with
// `data 775`, not unwillingToPerform (53): LDAP clients (JupyterHub, SSSD, PAM) treat 49 as
// "wrong password" and move on, and the lock applies to unknown names as much as known ones
// (the throttle counts names as typed), so 775 says nothing about whether an account exists.
// Disabled (533) is said only after the right password, as the directory core says it.
import { KeyhavenError } from '../../errors.js';
import { LDAP_RESULT, LdapResultError } from '../ldap-directory.js';

const ad = (data: string) => `80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data ${data}, v2580`;

export const BIND_INVALID = ad('52e');
export const BIND_DISABLED = ad('533');
export const BIND_LOCKED = ad('775');

export function bindError(err: unknown): LdapResultError {
  if (err instanceof LdapResultError) return err;
  if (err instanceof KeyhavenError) {
    if (err.kind === 'Throttled') return new LdapResultError(LDAP_RESULT.invalidCredentials, BIND_LOCKED);
    if (err.kind === 'Unauthenticated') {
      return new LdapResultError(LDAP_RESULT.invalidCredentials, err.code === 'KH_ACCOUNT_DISABLED' || err.code === 'KH_CLIENT_DISABLED' ? BIND_DISABLED : BIND_INVALID);
    }
    if (err.kind === 'Unavailable') return new LdapResultError(LDAP_RESULT.unavailable, 'the directory is unavailable; try again');
  }
  return new LdapResultError(LDAP_RESULT.other, 'the bind could not be completed');
}
