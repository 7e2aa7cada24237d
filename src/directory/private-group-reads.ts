// User private groups (private-groups.ts) read from storage: a user's own, the one a name or
// a gidNumber names, and the real groups' names and gids at once for a reader that goes
// through every user. Also the write-side check that keeps the rule "every POSIX user's
// gidNumber names a group" true when groups are created or renamed.
import type { Repos } from '../storage/storage.js';
import type { ResolvedDirectoryOptions } from './directory-context.js';
import { taken } from './directory-context.js';
import { toGraphUser } from './graph-objects.js';
import { privateGroupCandidate, privateGroupOf, type GroupNamespace, type PrivateGroup, type PrivateGroupRules, type PrivateGroupSubject } from './private-groups.js';

const NAMESPACE_PAGE = 1000;

export class PrivateGroupReads {
  readonly rules: PrivateGroupRules;

  constructor(private readonly read: Repos, options: Pick<ResolvedDirectoryOptions, 'userPrivateGroups' | 'reservedGroups'>) {
    this.rules = { enabled: options.userPrivateGroups, reservedGroups: options.reservedGroups };
  }

  /** The user's private group, checked against the groups in storage now. */
  async of(user: PrivateGroupSubject, repos: Repos = this.read): Promise<PrivateGroup | undefined> {
    const candidate = privateGroupCandidate(user, this.rules);
    if (!candidate) return undefined;
    if (await repos.groups.byGidNumber(candidate.gidNumber)) return undefined;
    if (await repos.groups.byMailNickname(candidate.name)) return undefined;
    return candidate;
  }

  /** The private group served under this name (a user's short name), if any. */
  async named(name: string): Promise<PrivateGroup | undefined> {
    if (!this.rules.enabled || typeof name !== 'string' || name.length === 0 || name.length > 64) return undefined;
    const row = await this.read.users.byUsername(name);
    return row ? this.of(toGraphUser(row)) : undefined;
  }

  /** The private group with this gidNumber (the uidNumber of its user), if any. */
  async withGid(gidNumber: number): Promise<PrivateGroup | undefined> {
    if (!this.rules.enabled || !Number.isInteger(gidNumber)) return undefined;
    const row = await this.read.users.byUidNumber(gidNumber);
    return row ? this.of(toGraphUser(row)) : undefined;
  }

  /** Every real group's name and gid, read once: for a pass over every user. */
  async namespace(): Promise<GroupNamespace> {
    const names = new Set<string>();
    const gids = new Set<number>();
    let after: { createdAt: string; id: string } | undefined;
    do {
      const page = await this.read.groups.list(undefined, { limit: NAMESPACE_PAGE, after });
      for (const g of page.rows) {
        names.add(g.mail_nickname.toLowerCase());
        if (g.gid_number !== null) gids.add(g.gid_number);
      }
      after = page.next;
    } while (after !== undefined);
    return { hasGroupNamed: (n) => names.has(n.toLowerCase()), hasGroupWithGid: (gid) => gids.has(gid) };
  }

  /**
   * A group about to take `name` or `gidNumber` (in the write's transaction): refused when
   * that would silently take over a user's private group — its name (the user's gid would be
   * nameless again) or its gid (the new group would become the user's primary group, owning
   * their files). A group named as the user with the user's own gid is allowed: it is that
   * user's private group made explicit, as FreeIPA and OpenLDAP directories hold them.
   */
  async assertGroupLeavesPrivateGroups(tx: Repos, group: { id: string; name: string; gidNumber: number | null }): Promise<void> {
    if (!this.rules.enabled) return;
    const sameName = await tx.users.byUsername(group.name);
    if (sameName && sameName.uid_number !== group.gidNumber && (await this.#servedIgnoring(tx, sameName, group.id))) {
      throw taken('KH_GROUP_NAME_TAKEN', `mailNickname (it is the name of user ${sameName.username}'s private group)`);
    }
    if (group.gidNumber === null) return;
    const sameGid = await tx.users.byUidNumber(group.gidNumber);
    if (sameGid && sameGid.username !== group.name.toLowerCase() && (await this.#servedIgnoring(tx, sameGid, group.id))) {
      throw taken('KH_POSIX_ID_TAKEN', `keyhavenPosix/gidNumber (it is user ${sameGid.username}'s private group)`);
    }
  }

  /**
   * Whether the user's own private group would serve their gidNumber once the group `groupId`
   * is gone or renumbered (it was that private group made explicit).
   */
  async privateGroupServes(tx: Repos, row: Parameters<typeof toGraphUser>[0], groupId: string): Promise<boolean> {
    return this.rules.enabled && row.uid_number !== null && row.uid_number === row.gid_number && this.#servedIgnoring(tx, row, groupId);
  }

  /** Whether the user has a private group, not counting the group `selfId` (the one being written). */
  async #servedIgnoring(tx: Repos, row: Parameters<typeof toGraphUser>[0], selfId: string): Promise<boolean> {
    const user = toGraphUser(row);
    const candidate = privateGroupCandidate(user, this.rules);
    if (!candidate) return false;
    const byGid = await tx.groups.byGidNumber(candidate.gidNumber);
    const byName = await tx.groups.byMailNickname(candidate.name);
    return privateGroupOf(user, this.rules, {
      hasGroupWithGid: () => byGid !== undefined && byGid.id !== selfId,
      hasGroupNamed: () => byName !== undefined && byName.id !== selfId,
    }) !== undefined;
  }
}
