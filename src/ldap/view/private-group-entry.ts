// A user private group (src/directory/private-groups.ts) as an LDAP entry: a posixGroup
// (RFC 2307 §2.4: cn, gidNumber, memberUid) under the group DN template, as FreeIPA serves
// its UPGs (`cn=alice,cn=groups,…`, objectClass posixGroup, no `member`). It is not a
// groupOfNames (whose `member` is required, RFC 4519 §3.5) nor an AD group: membership of a
// primary group is the user's gidNumber, so it is in no user's memberOf either.
import type { PrivateGroup } from '../../directory/private-groups.js';
import type { LdapEntry } from '../ldap-directory.js';
import { ldapTime } from './ad-identifiers.js';
import { EntryBuilder } from './entry-builder.js';

export const PRIVATE_GROUP_CLASSES = ['top', 'posixGroup'];

/** Every attribute a private group entry carries (lower-cased): an equality on any other never matches one. */
export const PRIVATE_GROUP_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectclass', 'cn', 'gidnumber', 'memberuid', 'description', 'entryuuid', 'entrydn', 'hassubordinates',
  'createtimestamp', 'modifytimestamp',
]);

export function privateGroupEntry(group: PrivateGroup, dn: string): LdapEntry {
  return new EntryBuilder(dn)
    .set('objectClass', ...PRIVATE_GROUP_CLASSES)
    .set('cn', group.name)
    .set('gidNumber', group.gidNumber)
    .set('memberUid', group.memberUid)
    .set('description', `User private group for ${group.name}`)
    .set('entryUUID', group.id)
    .set('createTimestamp', ldapTime(group.createdDateTime))
    .set('modifyTimestamp', ldapTime(group.createdDateTime))
    .set('entryDN', dn)
    .set('hasSubordinates', 'FALSE')
    .build();
}
