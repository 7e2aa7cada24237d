// Group membership as Graph has it: members/$ref to add and remove, members and
// transitiveMembers of a group, memberOf and transitiveMemberOf of a user, group or service
// principal. Members may be users, groups (nesting) and service principals. Adding a group
// that already contains this group, however deeply, is refused: a cycle would make every
// member of one a member of all, and LDAP clients (SSSD's nested group resolution) loop on
// them. Transitive lookups are one recursive query each (storage/repos/group-member-repo.ts).
import { ConflictError, InvalidInputError } from '../errors.js';
import type { MemberRef } from '../storage/repos/group-member-repo.js';
import type { Repos } from '../storage/storage.js';
import { auditEvent, notFound, retryUniqueRace, type Actor, type DirectoryDeps } from './directory-context.js';
import { toGraphGroup, toGraphServicePrincipal, toGraphUser, type DirectoryObject, type GraphGroup } from './graph-objects.js';
import type { Groups } from './groups.js';
import { decodeIdToken, encodeIdToken, isObjectId, parseTop, type ListOptions, type ListResult } from './odata-query.js';

/** Most groups a token's `groups` claim lists before Entra switches to the overage claim (JWT: 200). */
export const TOKEN_GROUPS_LIMIT = 200;

export class GroupMembership {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly groups: Groups,
  ) {}

  /** The kind of directory object `id` is, or undefined (applications cannot be members). */
  async resolve(id: string, repos: Repos = this.deps.storage.read): Promise<MemberRef | undefined> {
    if (!isObjectId(id)) return undefined;
    if (await repos.users.byId(id)) return { id, type: 'user' };
    if (await repos.groups.byId(id)) return { id, type: 'group' };
    if (await repos.servicePrincipals.byId(id)) return { id, type: 'servicePrincipal' };
    return undefined;
  }

  /** POST /groups/{id}/members/$ref. */
  async add(actor: Actor, groupKey: string, memberId: string): Promise<void> {
    const group = await this.groups.find(groupKey);
    if (!group) throw notFound('KH_GROUP_NOT_FOUND', groupKey);
    const id = typeof memberId === 'string' ? memberId.toLowerCase() : '';
    await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'group.member.add', group.id, { member: id.slice(0, 64) }), async (tx) => {
        const member = await this.resolve(id, tx);
        if (!member) throw notFound('KH_MEMBER_NOT_FOUND', memberId);
        if (!(await tx.groups.byId(group.id))) throw notFound('KH_GROUP_NOT_FOUND', groupKey);
        if (await tx.groupMembers.exists(group.id, id)) {
          // Graph's words for a duplicate $ref (HTTP 400 Request_BadRequest there).
          throw new ConflictError('KH_MEMBER_EXISTS', "One or more added object references already exist for the following modified properties: 'members'.");
        }
        if (member.type === 'group' && (id === group.id || (await tx.groupMembers.isTransitiveMember(group.id, id)))) {
          throw new ConflictError('KH_GROUP_CYCLE', 'The group cannot be added: it already contains this group, directly or through nested groups, and membership cannot be circular.');
        }
        await tx.groupMembers.add(group.id, member);
      }),
    );
  }

  /** DELETE /groups/{id}/members/{memberId}/$ref. */
  async remove(actor: Actor, groupKey: string, memberId: string): Promise<void> {
    const group = await this.groups.find(groupKey);
    if (!group) throw notFound('KH_GROUP_NOT_FOUND', groupKey);
    const id = typeof memberId === 'string' ? memberId.toLowerCase() : '';
    await this.deps.audit.write(auditEvent(actor, 'group.member.remove', group.id, { member: id.slice(0, 64) }), async (tx) => {
      if (!(await tx.groupMembers.remove(group.id, id))) throw notFound('KH_MEMBER_NOT_FOUND', memberId);
    });
  }

  /** GET /groups/{id}/members: direct members, paged by object id. */
  async members(groupKey: string, options: ListOptions = {}): Promise<ListResult<DirectoryObject>> {
    const group = await this.#group(groupKey);
    const limit = parseTop(options.top);
    const refs = await this.deps.storage.read.groupMembers.directMembers(group, { limit: limit + 1, afterId: decodeIdToken(options.skipToken) });
    return this.#page(refs, limit);
  }

  /** GET /groups/{id}/transitiveMembers: members of the group and of every group nested in it, each once. */
  async transitiveMembers(groupKey: string, options: ListOptions = {}): Promise<ListResult<DirectoryObject>> {
    const group = await this.#group(groupKey);
    const limit = parseTop(options.top);
    const refs = await this.deps.storage.read.groupMembers.transitiveMembers(group, { limit: limit + 1, afterId: decodeIdToken(options.skipToken) });
    return this.#page(refs, limit);
  }

  /** GET /{users|groups|servicePrincipals}/{id}/memberOf: the groups the object is directly in. */
  async memberOf(principalId: string, options: ListOptions = {}): Promise<ListResult<DirectoryObject>> {
    const id = await this.#principal(principalId);
    const limit = parseTop(options.top);
    const ids = await this.deps.storage.read.groupMembers.directGroupsOf(id, { limit: limit + 1, afterId: decodeIdToken(options.skipToken) });
    return this.#page(ids.map((g) => ({ id: g, type: 'group' as const })), limit);
  }

  /** GET …/transitiveMemberOf: every group the object is in, directly or through nesting. */
  async transitiveMemberOf(principalId: string, options: ListOptions = {}): Promise<ListResult<DirectoryObject>> {
    const id = await this.#principal(principalId);
    const limit = parseTop(options.top);
    const ids = await this.deps.storage.read.groupMembers.transitiveGroupsOf(id, { limit: limit + 1, afterId: decodeIdToken(options.skipToken) });
    return this.#page(ids.map((g) => ({ id: g, type: 'group' as const })), limit);
  }

  /**
   * The ids of every group a principal is in (transitively), at most `max` + 1 of them — so a
   * token issuer can tell "exactly max" from "more" and emit Entra's groups overage claim.
   */
  async transitiveGroupIds(principalId: string, max = TOKEN_GROUPS_LIMIT): Promise<string[]> {
    return this.deps.storage.read.groupMembers.transitiveGroupsOf(principalId, { limit: max + 1 });
  }

  /** Graph's checkMemberGroups: which of `groupIds` the principal is in, directly or transitively. */
  async checkMemberGroups(principalId: string, groupIds: readonly string[]): Promise<string[]> {
    if (groupIds.length > 20) throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'checkMemberGroups takes at most 20 group ids.');
    const wanted = groupIds.map((g) => String(g).toLowerCase());
    const checks = await Promise.all(wanted.map((g) => this.deps.storage.read.groupMembers.isTransitiveMember(principalId, g)));
    return wanted.filter((_, i) => checks[i]);
  }

  async #group(key: string): Promise<string> {
    const group = await this.groups.find(key);
    if (!group) throw notFound('KH_GROUP_NOT_FOUND', key);
    return group.id;
  }

  async #principal(id: string): Promise<string> {
    const ref = await this.resolve(typeof id === 'string' ? id.toLowerCase() : '');
    if (!ref) throw notFound('KH_PRINCIPAL_NOT_FOUND', String(id));
    return ref.id;
  }

  /** Loads the objects behind one page of references, in the page's order. */
  async #page(refs: MemberRef[], limit: number): Promise<ListResult<DirectoryObject>> {
    const page = refs.slice(0, limit);
    const repos = this.deps.storage.read;
    const ids = (type: MemberRef['type']) => page.filter((r) => r.type === type).map((r) => r.id);
    const byId = new Map<string, DirectoryObject>();
    for (const u of await repos.users.byIds(ids('user'))) byId.set(u.id, { '@odata.type': '#microsoft.graph.user', ...toGraphUser(u) });
    for (const g of await repos.groups.byIds(ids('group'))) byId.set(g.id, { '@odata.type': '#microsoft.graph.group', ...toGraphGroup(g) } as { '@odata.type': '#microsoft.graph.group' } & GraphGroup);
    for (const s of await repos.servicePrincipals.byIds(ids('servicePrincipal'))) {
      byId.set(s.id, { '@odata.type': '#microsoft.graph.servicePrincipal', ...toGraphServicePrincipal(s, this.deps.tenantId) });
    }
    const result: ListResult<DirectoryObject> = { value: page.map((r) => byId.get(r.id)).filter((o): o is DirectoryObject => o !== undefined) };
    if (refs.length > limit) result.nextSkipToken = encodeIdToken(page[page.length - 1]!.id);
    return result;
  }
}
