// Reading the directory, as any signed-in user may (Entra's default user permissions) and a
// service principal may with a role. Credential metadata of applications appears only for
// callers allowed `credentials.read` on that application; secrets and digests never do. The
// private attributes (ldapPrivateAttributes: scoped-reader.ts) of a user's or group's
// keyhavenExtraAttributes and imported values appear only to the object itself and to
// administrators (callers who may manage users), as over LDAP.
import type { DirectoryAccess } from './directory-access.js';
import type { DirectoryParts } from './directory-parts.js';
import type { RoleAssignmentListOptions } from './directory-roles.js';
import { toGraphGroup, toGraphUser } from './graph-objects.js';
import { findBySourceDn } from './source-dns.js';
import { importedNamingContexts, toImportedEntry, type ImportedLdapEntry } from './ldap-entries.js';
import type {
  DirectoryObject, GraphApplication, GraphGroup, GraphRoleAssignment, GraphServicePrincipal, GraphUser,
} from './graph-objects.js';
import type { ListOptions, ListResult } from './odata-query.js';
import type { GroupNamespace, PrivateGroup, PrivateGroupRules, PrivateGroupSubject } from './private-groups.js';
import { ROLE_DEFINITIONS, type RoleDefinition } from './role-definitions.js';
import { withoutPrivateAttributes } from './scoped-reader.js';

export class DirectoryReader {
  constructor(
    private readonly parts: DirectoryParts,
    private readonly access: DirectoryAccess,
  ) {}

  async getUser(key: string): Promise<GraphUser> {
    return this.#shown(await this.parts.users.get(key));
  }

  async listUsers(options?: ListOptions): Promise<ListResult<Partial<GraphUser>>> {
    return this.#shownAll(await this.parts.users.list(options));
  }

  async getGroup(key: string): Promise<GraphGroup> {
    return this.#shown(await this.parts.groups.get(key));
  }

  async listGroups(options?: ListOptions): Promise<ListResult<Partial<GraphGroup>>> {
    return this.#shownAll(await this.parts.groups.list(options));
  }

  /** Whether the caller sees every attribute of every object (an administrator, or the system). */
  get #seesPrivate(): boolean {
    return this.access.kind === 'system' || this.access.can('users.write');
  }

  /** The object as the caller may see it: its private attributes only for itself and administrators. */
  #shown<T extends { id?: string }>(object: T): T {
    if (this.#seesPrivate || object.id === this.access.actor.id) return object;
    return withoutPrivateAttributes(object, this.parts.visibility.privateAttributes);
  }

  #shownAll<T extends { id?: string }>(page: ListResult<T>): ListResult<T> {
    if (this.#seesPrivate) return page;
    return { ...page, value: page.value.map((o) => this.#shown(o)) };
  }

  /** The rules user private groups follow here (private-groups.ts): for readers with an index of their own. */
  privateGroupRules(): PrivateGroupRules {
    return this.parts.privateGroups.rules;
  }

  /** The user's private group, if the rules give them one now. */
  privateGroupOf(user: PrivateGroupSubject): Promise<PrivateGroup | undefined> {
    return this.parts.privateGroups.of(user);
  }

  /** The private group with this name (a user's short name), if any. */
  privateGroupNamed(name: string): Promise<PrivateGroup | undefined> {
    return this.parts.privateGroups.named(name);
  }

  /** The private group with this gidNumber, if any. */
  privateGroupWithGid(gidNumber: number): Promise<PrivateGroup | undefined> {
    return this.parts.privateGroups.withGid(gidNumber);
  }

  /** The real groups' names and gids, read once, for privateGroupOf over many users. */
  groupNamespace(): Promise<GroupNamespace> {
    return this.parts.privateGroups.namespace();
  }

  /**
   * The user or group an LDIF import brought in under this DN (users.source_dn,
   * groups.source_dn), compared as LDAP compares DNs (case and spacing ignored); undefined
   * when no imported object has it. Objects made in Keyhaven have no DN of their own here:
   * the LDAP view's templates name them.
   */
  async findBySourceDn(dn: string): Promise<{ kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup } | undefined> {
    const found = await findBySourceDn(this.parts.deps.storage.read, dn);
    if (!found) return undefined;
    return found.kind === 'user' ? { kind: 'user', user: this.#shown(toGraphUser(found.row)) } : { kind: 'group', group: this.#shown(toGraphGroup(found.row)) };
  }

  /** Imported entries that are neither users nor groups: bases, containers, bind-only accounts (ldap-entries.ts). */
  async importedLdapEntries(): Promise<ImportedLdapEntry[]> {
    return (await this.parts.deps.storage.read.ldapEntries.all()).map(toImportedEntry);
  }

  /** The suffixes of the trees LDIF imports brought in (ldap-entries.ts). */
  importedNamingContexts(): Promise<string[]> {
    return importedNamingContexts(this.parts.deps.storage.read);
  }

  async members(groupKey: string, options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.#shownAll(await this.parts.membership.members(groupKey, options));
  }

  async transitiveMembers(groupKey: string, options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.#shownAll(await this.parts.membership.transitiveMembers(groupKey, options));
  }

  /** Groups a user, group or service principal (by object id) is directly in. */
  async memberOf(objectId: string, options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.#shownAll(await this.parts.membership.memberOf(objectId, options));
  }

  async transitiveMemberOf(objectId: string, options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.#shownAll(await this.parts.membership.transitiveMemberOf(objectId, options));
  }

  checkMemberGroups(objectId: string, groupIds: readonly string[]): Promise<string[]> {
    return this.parts.membership.checkMemberGroups(objectId, groupIds);
  }

  async getApplication(key: string): Promise<GraphApplication> {
    const app = await this.parts.applications.find(key);
    return this.parts.applications.get(key, app !== undefined && this.access.can('credentials.read', app.id));
  }

  listApplications(options: ListOptions = {}): Promise<ListResult<Partial<GraphApplication>>> {
    return this.parts.applications.list(options, this.access.can('credentials.read'));
  }

  getServicePrincipal(key: string): Promise<GraphServicePrincipal> {
    return this.parts.servicePrincipals.get(key);
  }

  listServicePrincipals(options?: ListOptions): Promise<ListResult<Partial<GraphServicePrincipal>>> {
    return this.parts.servicePrincipals.list(options);
  }

  roleDefinitions(): readonly RoleDefinition[] {
    return ROLE_DEFINITIONS;
  }

  listRoleAssignments(options?: RoleAssignmentListOptions): Promise<ListResult<GraphRoleAssignment>> {
    return this.parts.roles.list(options);
  }

  getRoleAssignment(id: string): Promise<GraphRoleAssignment> {
    return this.parts.roles.get(id);
  }
}
