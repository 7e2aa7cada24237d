// User private groups (UPG), as FreeIPA and most Linux distributions have them: each POSIX
// user whose gidNumber is their own uidNumber, and whose gidNumber no group has, gets a
// posixGroup of their own — named as the user, gidNumber = uidNumber, the user its one
// memberUid — so that on an SSSD or nslcd client `id` names the user's primary group and
// `id -Gn` does not fail on a nameless gid. Keyhaven does not store these groups: they follow
// from the user (and from which names and gids real groups hold) at every read, so they come
// and go with the user, a rename or a new primary group, with nothing to keep in step.
//
// The rules, the same for every reader (the LDAP view, the in-memory read model):
//  - only while the userPrivateGroups setting is on (default on);
//  - only for a user with a uidNumber whose gidNumber equals it (a user given another
//    gidNumber or --primary-group has chosen their primary group);
//  - none when a group already has that gidNumber (it is the primary group), or a group
//    has the user's name (FreeIPA refuses to create such a UPG; here the user simply gets
//    none: the admin names a primary group with --primary-group);
//  - none when the user's name is a reserved group name (reservedGroupNames): a private
//    group named `sudo` or `docker` would grant root on SSSD clients by name. New users with
//    such names are refused while private groups are on (user-accounts.ts); this rule covers
//    the rest (imported users, the bootstrap `admin` made a POSIX account, a setting changed).
//
// privateGroupOf is a pure function of a user, the rules and a view of the real groups'
// names and gids, so any reader can call it with its own (synchronous) index.
import { createHash } from 'node:crypto';
import type { GraphUser } from './graph-objects.js';
import type { ReservedGroupNames } from './principal-names.js';

export interface PrivateGroupRules {
  enabled: boolean;
  reservedGroups: ReservedGroupNames;
}

/** What of a user a private group depends on. */
export type PrivateGroupSubject = Pick<GraphUser, 'id' | 'mailNickname' | 'createdDateTime'> & {
  keyhavenPosix: Pick<GraphUser['keyhavenPosix'], 'uidNumber' | 'gidNumber'>;
};

/** The real groups' names (ignoring case) and gidNumbers, as a reader knows them. */
export interface GroupNamespace {
  hasGroupNamed(name: string): boolean;
  hasGroupWithGid(gidNumber: number): boolean;
}

export interface PrivateGroup {
  /** Stable and distinct from every object id: derived from the user's id (privateGroupId). */
  id: string;
  userId: string;
  /** The user's short name: the group's cn. */
  name: string;
  gidNumber: number;
  /** The one member, by short name (RFC 2307 memberUid). */
  memberUid: string;
  createdDateTime: string;
}

/**
 * The private group the user would have if no real group stood in its way, or undefined:
 * off, not a POSIX user, a primary group of its own choosing, or a reserved name. Readers
 * use it to know which names and gids to check (privateGroupOf does the whole test).
 */
export function privateGroupCandidate(user: PrivateGroupSubject, rules: PrivateGroupRules): PrivateGroup | undefined {
  if (!rules.enabled) return undefined;
  const { uidNumber, gidNumber } = user.keyhavenPosix;
  if (uidNumber === null || gidNumber === null || gidNumber !== uidNumber) return undefined;
  if (rules.reservedGroups.has(user.mailNickname)) return undefined;
  return {
    id: privateGroupId(user.id),
    userId: user.id,
    name: user.mailNickname,
    gidNumber,
    memberUid: user.mailNickname,
    createdDateTime: user.createdDateTime,
  };
}

/** The user's private group, or undefined when the rules above give them none. */
export function privateGroupOf(user: PrivateGroupSubject, rules: PrivateGroupRules, groups: GroupNamespace): PrivateGroup | undefined {
  const candidate = privateGroupCandidate(user, rules);
  if (!candidate) return undefined;
  if (groups.hasGroupWithGid(candidate.gidNumber) || groups.hasGroupNamed(candidate.name)) return undefined;
  return candidate;
}

/**
 * A name-based UUID (RFC 9562 §5.5, version 5 layout over SHA-1) of the user's id in a
 * namespace of Keyhaven's own: the same on every replica and every read, and never equal to
 * a real object's random (version 4) id.
 */
export function privateGroupId(userId: string): string {
  const h = createHash('sha1').update('keyhaven:user-private-group:').update(userId.toLowerCase()).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
