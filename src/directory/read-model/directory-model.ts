// The directory held in process (DESIGN.md, "Storage and scale"): every user and group as the
// Graph objects the faces render (graph-objects.ts: no password hash, no secret), their
// direct membership edges in both directions, and the lookups the hot reads need — by login
// name, userPrincipalName, group nickname, the DN an LDIF import gave (source-dns.ts
// semantics) — with transitive membership walked on demand. It is plain synchronous data:
// read-model.ts keeps it exact (loaded at start, reloaded object by object after each commit
// and each NOTIFY, whole after a reconnect), and tells subscribers what changed, synchronously,
// so anything built on it (the LDAP view's indexes) changes in the same turn. There is no
// time-to-live anywhere: what is here is what the database held at the last commit seen.
import type { MemberType } from '../../storage/database.js';
import type { GroupRow } from '../../storage/repos/group-repo.js';
import type { UserRow } from '../../storage/repos/user-repo.js';
import { toGraphGroup, toGraphUser, type GraphGroup, type GraphUser } from '../graph-objects.js';
import { normalizeDn } from '../ldif/ldif-dn.js';
import { isObjectId } from '../odata-query.js';

export interface MembershipEdge {
  groupId: string;
  id: string;
  type: MemberType;
}

/** What one update changed, by object id; `all` after a full (re)load. */
export interface ModelChange {
  all: boolean;
  /** Users added, changed or removed. */
  users: ReadonlySet<string>;
  /** Groups added, changed or removed. */
  groups: ReadonlySet<string>;
  /** Objects with a membership edge added or removed (both ends of each edge). */
  edges: ReadonlySet<string>;
}

export type ModelObject = { kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup };

const MAX_DN_LENGTH = 4096;

export class DirectoryModel {
  readonly #users = new Map<string, GraphUser>();
  readonly #groups = new Map<string, GraphGroup>();
  /** Login names are stored lower-case (user-repo.ts). */
  readonly #userByName = new Map<string, string>();
  readonly #userByUpn = new Map<string, string>();
  readonly #groupByName = new Map<string, string>();
  readonly #groupsByGid = new Map<number, Set<string>>();
  readonly #bySourceDn = new Map<string, { kind: 'user' | 'group'; id: string }>();
  readonly #members = new Map<string, Map<string, MemberType>>();
  readonly #groupsOf = new Map<string, Set<string>>();
  readonly #listeners = new Set<(change: ModelChange) => void>();
  #version = 0;

  /** Bumped by every update: a cheap way to tell whether anything changed. */
  get version(): number {
    return this.#version;
  }

  get userCount(): number {
    return this.#users.size;
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  // Lookups ------------------------------------------------------------------------------

  user(id: string): GraphUser | undefined {
    return this.#users.get(id);
  }

  group(id: string): GraphGroup | undefined {
    return this.#groups.get(id);
  }

  /** As Graph's /users/{key} (user-accounts.ts find): object id, userPrincipalName (has '@') or login name. */
  findUser(key: string): GraphUser | undefined {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256 || key.includes('\0')) return undefined;
    const lower = key.toLowerCase();
    if (isObjectId(lower)) return this.#users.get(lower);
    const id = key.includes('@') ? this.#userByUpn.get(lower) : this.#userByName.get(lower);
    return id === undefined ? undefined : this.#users.get(id);
  }

  /** By login name alone (stored lower-case), whatever it looks like. */
  userByName(name: string): GraphUser | undefined {
    const id = this.#userByName.get(name.toLowerCase());
    return id === undefined ? undefined : this.#users.get(id);
  }

  /** As /groups/{key} (groups.ts find): object id or mailNickname, ignoring case. */
  findGroup(key: string): GraphGroup | undefined {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256 || key.includes('\0')) return undefined;
    const lower = key.toLowerCase();
    if (isObjectId(lower)) return this.#groups.get(lower);
    const id = this.#groupByName.get(lower);
    return id === undefined ? undefined : this.#groups.get(id);
  }

  /** Whether a group has this mailNickname (ignoring case): user private groups give way to it. */
  hasGroupNamed(name: string): boolean {
    return this.#groupByName.has(name.toLowerCase());
  }

  /** Whether a group has this gidNumber: a user private group gives way to it. */
  hasGroupWithGid(gidNumber: number): boolean {
    return (this.#groupsByGid.get(gidNumber)?.size ?? 0) > 0;
  }

  /** The imported user or group whose original DN this is, as LDAP compares DNs (source-dns.ts). */
  bySourceDn(dn: string): ModelObject | undefined {
    if (typeof dn !== 'string' || dn.length === 0 || dn.length > MAX_DN_LENGTH || /\p{Cc}/u.test(dn)) return undefined;
    const key = normalizeDn(dn);
    if (key === undefined || key === '') return undefined;
    const ref = this.#bySourceDn.get(key);
    if (!ref) return undefined;
    if (ref.kind === 'user') {
      const user = this.#users.get(ref.id);
      return user ? { kind: 'user', user } : undefined;
    }
    const group = this.#groups.get(ref.id);
    return group ? { kind: 'group', group } : undefined;
  }

  /** Every user, in the order loaded (creation order) and then as created. */
  users(): IterableIterator<GraphUser> {
    return this.#users.values();
  }

  groups(): IterableIterator<GraphGroup> {
    return this.#groups.values();
  }

  // Membership ---------------------------------------------------------------------------

  /** A group's direct members (users, groups, service principals), by id. */
  directMembers(groupId: string): ReadonlyMap<string, MemberType> {
    return this.#members.get(groupId) ?? EMPTY_MAP;
  }

  /** The groups an object is directly in. */
  directGroupsOf(id: string): ReadonlySet<string> {
    return this.#groupsOf.get(id) ?? EMPTY_SET;
  }

  /** Every member of the group and of the groups nested in it, each once (a cycle ends the walk). */
  transitiveMembers(groupId: string): Set<string> {
    const out = new Set<string>();
    const seenGroups = new Set<string>([groupId]);
    const todo = [groupId];
    while (todo.length > 0) {
      const g = todo.pop()!;
      for (const [m, type] of this.#members.get(g) ?? EMPTY_MAP) {
        out.add(m);
        if (type === 'group' && !seenGroups.has(m)) {
          seenGroups.add(m);
          todo.push(m);
        }
      }
    }
    return out;
  }

  /** Every group the object is in, directly or through nesting, each once. */
  transitiveGroupsOf(id: string): Set<string> {
    const out = new Set<string>();
    const todo = [id];
    while (todo.length > 0) {
      const m = todo.pop()!;
      for (const g of this.#groupsOf.get(m) ?? EMPTY_SET) {
        if (out.has(g)) continue;
        out.add(g);
        todo.push(g);
      }
    }
    return out;
  }

  /** Whether `id` is in `groupId`, directly or through nesting (stops at the first hit). */
  isTransitiveMember(id: string, groupId: string): boolean {
    const seen = new Set<string>();
    const todo = [id];
    while (todo.length > 0) {
      const m = todo.pop()!;
      for (const g of this.#groupsOf.get(m) ?? EMPTY_SET) {
        if (g === groupId) return true;
        if (seen.has(g)) continue;
        seen.add(g);
        todo.push(g);
      }
    }
    return false;
  }

  // Updates (read-model.ts) --------------------------------------------------------------

  /** Told of every change, synchronously, after it is applied. */
  subscribe(listener: (change: ModelChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces everything (a load or a reload after missed notifications). */
  replaceAll(users: Iterable<UserRow>, groups: Iterable<GroupRow>, edges: Iterable<MembershipEdge>): void {
    this.#users.clear();
    this.#groups.clear();
    this.#userByName.clear();
    this.#userByUpn.clear();
    this.#groupByName.clear();
    this.#groupsByGid.clear();
    this.#bySourceDn.clear();
    this.#members.clear();
    this.#groupsOf.clear();
    for (const row of users) this.#putUser(row);
    for (const row of groups) this.#putGroup(row);
    for (const e of edges) this.#addEdge(e);
    this.#emit({ all: true, users: EMPTY_SET, groups: EMPTY_SET, edges: EMPTY_SET });
  }

  /**
   * Applies what a reload read back: each listed user and group as it now is (undefined:
   * gone), and — for the listed containers and members — their complete current edges.
   */
  apply(update: {
    users: ReadonlyMap<string, UserRow | undefined>;
    groups: ReadonlyMap<string, GroupRow | undefined>;
    edgesOfGroups: readonly string[];
    edgesOfMembers: readonly string[];
    edges: readonly MembershipEdge[];
  }): void {
    const touched = new Set<string>();
    for (const [id, row] of update.users) {
      this.#removeUser(id);
      if (row) this.#putUser(row);
      else this.#dropEdgesOf(id, touched);
    }
    for (const [id, row] of update.groups) {
      this.#removeGroup(id);
      if (row) this.#putGroup(row);
      else this.#dropEdgesOf(id, touched);
    }
    for (const g of update.edgesOfGroups) {
      for (const m of [...(this.#members.get(g)?.keys() ?? [])]) {
        this.#removeEdge(g, m);
        touched.add(g).add(m);
      }
    }
    for (const m of update.edgesOfMembers) {
      for (const g of [...(this.#groupsOf.get(m) ?? [])]) {
        this.#removeEdge(g, m);
        touched.add(g).add(m);
      }
    }
    for (const e of update.edges) {
      this.#addEdge(e);
      touched.add(e.groupId).add(e.id);
    }
    this.#emit({ all: false, users: new Set(update.users.keys()), groups: new Set(update.groups.keys()), edges: touched });
  }

  #emit(change: ModelChange): void {
    this.#version++;
    for (const l of this.#listeners) l(change);
  }

  #putUser(row: UserRow): void {
    const user = toGraphUser(row);
    this.#users.set(user.id, user);
    this.#userByName.set(row.username.toLowerCase(), user.id);
    this.#userByUpn.set(row.user_principal_name.toLowerCase(), user.id);
    const dn = row.source_dn ? normalizeDn(row.source_dn) : undefined;
    if (dn) this.#bySourceDn.set(dn, { kind: 'user', id: user.id });
  }

  #removeUser(id: string): void {
    const user = this.#users.get(id);
    if (!user) return;
    this.#users.delete(id);
    const name = user.mailNickname.toLowerCase();
    if (this.#userByName.get(name) === id) this.#userByName.delete(name);
    const upn = user.userPrincipalName.toLowerCase();
    if (this.#userByUpn.get(upn) === id) this.#userByUpn.delete(upn);
    this.#dropSourceDn(user.keyhavenLdap?.sourceDn, id);
  }

  #putGroup(row: GroupRow): void {
    const group = toGraphGroup(row);
    this.#groups.set(group.id, group);
    this.#groupByName.set(row.mail_nickname.toLowerCase(), group.id);
    if (row.gid_number !== null) {
      let ids = this.#groupsByGid.get(row.gid_number);
      if (!ids) this.#groupsByGid.set(row.gid_number, (ids = new Set()));
      ids.add(group.id);
    }
    const dn = row.source_dn ? normalizeDn(row.source_dn) : undefined;
    if (dn) this.#bySourceDn.set(dn, { kind: 'group', id: group.id });
  }

  #removeGroup(id: string): void {
    const group = this.#groups.get(id);
    if (!group) return;
    this.#groups.delete(id);
    const name = group.mailNickname.toLowerCase();
    if (this.#groupByName.get(name) === id) this.#groupByName.delete(name);
    const gid = group.keyhavenPosix.gidNumber;
    const ids = gid === null ? undefined : this.#groupsByGid.get(gid);
    if (ids) {
      ids.delete(id);
      if (ids.size === 0) this.#groupsByGid.delete(gid!);
    }
    this.#dropSourceDn(group.keyhavenLdap?.sourceDn, id);
  }

  #dropSourceDn(sourceDn: string | undefined, id: string): void {
    const dn = sourceDn ? normalizeDn(sourceDn) : undefined;
    if (dn && this.#bySourceDn.get(dn)?.id === id) this.#bySourceDn.delete(dn);
  }

  #dropEdgesOf(id: string, touched: Set<string>): void {
    for (const m of [...(this.#members.get(id)?.keys() ?? [])]) {
      this.#removeEdge(id, m);
      touched.add(id).add(m);
    }
    for (const g of [...(this.#groupsOf.get(id) ?? [])]) {
      this.#removeEdge(g, id);
      touched.add(g).add(id);
    }
  }

  #addEdge(e: MembershipEdge): void {
    let members = this.#members.get(e.groupId);
    if (!members) this.#members.set(e.groupId, (members = new Map()));
    members.set(e.id, e.type);
    let groups = this.#groupsOf.get(e.id);
    if (!groups) this.#groupsOf.set(e.id, (groups = new Set()));
    groups.add(e.groupId);
  }

  #removeEdge(groupId: string, memberId: string): void {
    const members = this.#members.get(groupId);
    if (members) {
      members.delete(memberId);
      if (members.size === 0) this.#members.delete(groupId);
    }
    const groups = this.#groupsOf.get(memberId);
    if (groups) {
      groups.delete(groupId);
      if (groups.size === 0) this.#groupsOf.delete(memberId);
    }
  }
}

const EMPTY_MAP: ReadonlyMap<string, MemberType> = new Map();
const EMPTY_SET: ReadonlySet<string> = new Set();
