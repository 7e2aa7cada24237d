// A user as an LDAP entry, in both views at once: inetOrgPerson + posixAccount (+ ldapPublicKey
// when the user has SSH keys), for OpenLDAP-minded clients (nslcd, SSSD's ldap provider,
// JupyterHub with `uid`), and Active Directory's `user` (sAMAccountName, userPrincipalName,
// memberOf, objectGUID, objectSid, userAccountControl, whenCreated/whenChanged) for AD-minded
// ones (JupyterHub with `sAMAccountName`, as Azure AD DS guides configure it). Nothing secret
// is ever an attribute: the directory's objects carry no hash (graph-objects.ts).
import { objectCategoryDn } from './object-category.js';
import type { GraphUser } from '../../directory/graph-objects.js';
import { parseDn } from './distinguished-name.js';
import type { LdapEntry } from '../ldap-directory.js';
import {
  adTime, ldapTime, objectGuid, objectSid, relativeId, SAM_USER_OBJECT, UF_ACCOUNTDISABLE, UF_NORMAL_ACCOUNT,
} from './ad-identifiers.js';
import { EntryBuilder, withSourceClasses } from './entry-builder.js';
import { applySourceAttributes } from './source-attributes.js';

export interface UserEntryContext {
  dn: string;
  domainSid: readonly [number, number, number];
  /** The base DN: Active Directory's objectCategory names a class under its schema container. */
  baseDn: string;
  /** DNs of the groups the user is directly in; undefined when not needed for this search. */
  memberOf?: readonly string[] | undefined;
}

/** When the entry last changed, as far as the directory's objects tell (creation or the last password change). */
function changedAt(user: GraphUser): string {
  const p = user.lastPasswordChangeDateTime;
  return p !== null && p > user.createdDateTime ? p : user.createdDateTime;
}

/**
 * One cn for users made in Keyhaven, as Active Directory has it: where the DN's leaf RDN is a cn (the AD DS layout
 * CN={username}, or an imported CN=Jane Doe), cn is that value, so the entry names itself
 * consistently; otherwise (uid=… layouts) the display name. JupyterHub's ldapauthenticator
 * refuses a lookup whose lookup_dn_user_dn_attribute (often cn) has several values.
 */
function commonName(user: GraphUser, dn: string): string {
  const leaf = parseDn(dn)?.rdns[0]?.pairs.find(([type]) => type === 'cn');
  return leaf?.[1] ?? (user.displayName || user.mailNickname);
}

/** Letters NFKD does not decompose into ASCII, spelled as ASCII (as ICU's Latin-ASCII transliterator has them). */
const LATIN_ASCII: Record<string, string> = { ß: 'ss', æ: 'ae', Æ: 'AE', ø: 'o', Ø: 'O', œ: 'oe', Œ: 'OE', đ: 'd', Đ: 'D', ł: 'l', Ł: 'L', þ: 'th', Þ: 'TH', ð: 'd', Ð: 'D', ı: 'i' };

/**
 * gecos is an IA5 String (RFC 2307 §2.2, nis.schema): ASCII only. A display name outside
 * ASCII is transliterated (Zoë Ångström → Zoe Angstrom: accents dropped, ß → ss); one that
 * still is not ASCII (a name in another script) gets no gecos, and SSSD and nslcd fall back
 * to cn, which is a Directory String.
 */
export function gecosOf(displayName: string | null | undefined): string | undefined {
  if (!displayName) return undefined;
  const ascii = displayName.normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^\x00-\x7f]/g, (c) => LATIN_ASCII[c] ?? c);
  return /^[\x20-\x7e]+$/.test(ascii) ? ascii : undefined;
}

export function userEntry(user: GraphUser, ctx: UserEntryContext): LdapEntry {
  const posix = user.keyhavenPosix;
  const objectClasses = ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user'];
  // posixAccount (RFC 2307 §2.2: MUST uidNumber, gidNumber, homeDirectory) only for a POSIX
  // user: the bootstrap admin is none by default, so SSSD/nslcd do not offer it as a login.
  if (posix.uidNumber !== null) objectClasses.splice(4, 0, 'posixAccount');
  if (posix.sshPublicKeys.length > 0) objectClasses.push('ldapPublicKey');
  withSourceClasses(objectClasses, user.keyhavenLdap?.objectClasses);
  const cn = commonName(user, ctx.dn);
  const changed = changedAt(user);
  const builder = new EntryBuilder(ctx.dn)
    .set('objectClass', ...objectClasses)
    .set('uid', user.mailNickname)
    .set('cn', cn)
    // inetOrgPerson requires sn; the login name stands in when the user has no surname.
    .set('sn', user.surname ?? user.mailNickname)
    .set('givenName', user.givenName)
    .set('displayName', user.displayName)
    .set('mail', user.mail)
    .set('uidNumber', posix.uidNumber)
    .set('gidNumber', posix.gidNumber)
    .set('gecos', gecosOf(user.displayName))
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
    .set('objectCategory', objectCategoryDn('Person', ctx.baseDn))
    .set('whenCreated', adTime(user.createdDateTime))
    .set('whenChanged', adTime(changed))
    .extras(user.keyhavenExtraAttributes)
    .set('entryUUID', user.id)
    .set('createTimestamp', ldapTime(user.createdDateTime))
    .set('modifyTimestamp', ldapTime(changed))
    .set('entryDN', ctx.dn)
    .set('hasSubordinates', 'FALSE');
  // An imported entry's own values (cn as it was, a second mail, …): source-attributes.ts.
  applySourceAttributes(builder, user.keyhavenLdap?.attributes, ctx.dn);
  return builder.build();
}
