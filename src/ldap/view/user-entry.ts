// A user as an LDAP entry, in both views at once: inetOrgPerson + posixAccount (+ ldapPublicKey
// when the user has SSH keys), for OpenLDAP-minded clients (nslcd, SSSD's ldap provider,
// JupyterHub with `uid`), and Active Directory's `user` (sAMAccountName, userPrincipalName,
// memberOf, objectGUID, objectSid, userAccountControl, whenCreated/whenChanged) for AD-minded
// ones (JupyterHub with `sAMAccountName`, as Azure AD DS guides configure it). Nothing secret
// is ever an attribute: the directory's objects carry no hash (graph-objects.ts).
import type { GraphUser } from '../../directory/graph-objects.js';
import type { LdapEntry } from '../ldap-directory.js';
import {
  adTime, ldapTime, objectGuid, objectSid, relativeId, SAM_USER_OBJECT, UF_ACCOUNTDISABLE, UF_NORMAL_ACCOUNT,
} from './ad-identifiers.js';
import { EntryBuilder, withSourceClasses } from './entry-builder.js';

export interface UserEntryContext {
  dn: string;
  domainSid: readonly [number, number, number];
  /** DNs of the groups the user is directly in; undefined when not needed for this search. */
  memberOf?: readonly string[] | undefined;
}

/** When the entry last changed, as far as the directory's objects tell (creation or the last password change). */
function changedAt(user: GraphUser): string {
  const p = user.lastPasswordChangeDateTime;
  return p !== null && p > user.createdDateTime ? p : user.createdDateTime;
}

export function userEntry(user: GraphUser, ctx: UserEntryContext): LdapEntry {
  const posix = user.keyhavenPosix;
  const objectClasses = ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount', 'user'];
  if (posix.sshPublicKeys.length > 0) objectClasses.push('ldapPublicKey');
  withSourceClasses(objectClasses, user.keyhavenLdap?.objectClasses);
  const cn = user.displayName && user.displayName !== user.mailNickname ? [user.mailNickname, user.displayName] : [user.mailNickname];
  const changed = changedAt(user);
  return new EntryBuilder(ctx.dn)
    .set('objectClass', ...objectClasses)
    .set('uid', user.mailNickname)
    // The short name first: it is the RDN value under the AD DS template CN={username}.
    .set('cn', ...cn)
    // inetOrgPerson requires sn; the login name stands in when the user has no surname.
    .set('sn', user.surname ?? user.mailNickname)
    .set('givenName', user.givenName)
    .set('displayName', user.displayName)
    .set('mail', user.mail)
    .set('uidNumber', posix.uidNumber)
    .set('gidNumber', posix.gidNumber)
    .set('gecos', user.displayName)
    .set('homeDirectory', posix.homeDirectory)
    .set('loginShell', posix.loginShell)
    .set('sshPublicKey', ...posix.sshPublicKeys)
    .set('sAMAccountName', user.onPremisesSamAccountName)
    .set('userPrincipalName', user.userPrincipalName)
    .set('memberOf', ...(ctx.memberOf ?? []))
    .set('objectGUID', objectGuid(user.id))
    .set('objectSid', objectSid(ctx.domainSid, relativeId(user.id)))
    .set('userAccountControl', UF_NORMAL_ACCOUNT | (user.accountEnabled ? 0 : UF_ACCOUNTDISABLE))
    .set('sAMAccountType', SAM_USER_OBJECT)
    .set('whenCreated', adTime(user.createdDateTime))
    .set('whenChanged', adTime(changed))
    .extras(user.keyhavenExtraAttributes)
    .set('entryUUID', user.id)
    .set('createTimestamp', ldapTime(user.createdDateTime))
    .set('modifyTimestamp', ldapTime(changed))
    .set('entryDN', ctx.dn)
    .set('hasSubordinates', 'FALSE')
    .build();
}
