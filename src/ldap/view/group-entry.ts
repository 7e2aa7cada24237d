// A group as an LDAP entry: groupOfNames (member DNs) + posixGroup (gidNumber, memberUid:
// the short names of its direct user members, RFC 2307) + Active Directory's `group`
// (sAMAccountName, groupType of a global security group, memberOf for nesting). `member`
// lists direct members only, users and groups alike, exactly as LDAP servers do; nested
// membership is the client's walk or the IN_CHAIN rule's.
import { objectCategoryDn } from './object-category.js';
import type { GraphGroup } from '../../directory/graph-objects.js';
import type { LdapEntry } from '../ldap-directory.js';
import { adTime, GLOBAL_SECURITY_GROUP, ldapTime, objectGuid, objectSid, relativeId, SAM_GROUP_OBJECT } from './ad-identifiers.js';
import { EntryBuilder, withSourceClasses } from './entry-builder.js';
import { applySourceAttributes } from './source-attributes.js';

export interface GroupEntryContext {
  dn: string;
  domainSid: readonly [number, number, number];
  baseDn: string;
  /** Direct members (undefined when not needed for this search): DNs, and user members' short names. */
  members?: { dns: readonly string[]; userNames: readonly string[] } | undefined;
  /** DNs of the groups this group is directly in. */
  memberOf?: readonly string[] | undefined;
}

export function groupEntry(group: GraphGroup, ctx: GroupEntryContext): LdapEntry {
  const objectClasses = withSourceClasses(['top', 'groupOfNames', 'posixGroup', 'group'], group.keyhavenLdap?.objectClasses);
  // An imported groupOfUniqueNames lists its members as uniqueMember (RFC 4519 §3.6) too.
  const unique = group.keyhavenLdap?.objectClasses.some((c) => c.toLowerCase() === 'groupofuniquenames') === true;
  const builder = new EntryBuilder(ctx.dn)
    .set('objectClass', ...objectClasses)
    .set('cn', group.mailNickname)
    .set('displayName', group.displayName)
    .set('description', group.description)
    .set('gidNumber', group.keyhavenPosix.gidNumber)
    .set('member', ...(ctx.members?.dns ?? []))
    .set('uniqueMember', ...(unique ? (ctx.members?.dns ?? []) : []))
    .set('memberUid', ...(ctx.members?.userNames ?? []))
    .set('memberOf', ...(ctx.memberOf ?? []))
    .set('sAMAccountName', group.mailNickname)
    .set('groupType', GLOBAL_SECURITY_GROUP)
    .set('sAMAccountType', SAM_GROUP_OBJECT)
    .set('objectCategory', objectCategoryDn('Group', ctx.baseDn))
    .set('objectGUID', objectGuid(group.id))
    .set('objectSid', objectSid(ctx.domainSid, relativeId(group.id)))
    .set('whenCreated', adTime(group.createdDateTime))
    .set('whenChanged', adTime(group.createdDateTime))
    .extras(group.keyhavenExtraAttributes)
    .set('entryUUID', group.id)
    .set('createTimestamp', ldapTime(group.createdDateTime))
    .set('modifyTimestamp', ldapTime(group.createdDateTime))
    .set('entryDN', ctx.dn)
    .set('hasSubordinates', 'FALSE');
  applySourceAttributes(builder, group.keyhavenLdap?.attributes, ctx.dn);
  return builder.build();
}
