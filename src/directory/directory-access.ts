// Authorization by construction (lldap's get_admin_handler idea): a face asks for a caller's
// access once per request, then asks it for the narrower capability it needs — a reader, a
// user writer, a group writer, an application writer, a role writer. Each ask checks the
// caller's current role assignments and either returns an object whose methods act as that
// caller (every write audited under the caller's id) or throws Graph's
// Authorization_RequestDenied. Code without the capability has nothing to call.
//
// Beyond the roles' actions, two of Entra's privileged-role fences:
//  - a user holding Global, Groups or Application Administrator is managed (password reset,
//    update, disable, delete) only by a Global Administrator;
//  - credentials are added to an application whose service principal holds any directory
//    role beyond Directory Readers only by a Global Administrator — else an Application
//    Administrator could mint a secret for a more privileged identity and become it (the
//    escalation Microsoft's guidance on privileged roles warns of).
import { ForbiddenError } from '../errors.js';
import type { ApplicationRow } from '../storage/repos/application-repo.js';
import type { Actor } from './directory-context.js';
import { notFound } from './directory-context.js';
import type { DirectoryParts } from './directory-parts.js';
import type { Grants } from './directory-roles.js';
import { DIRECTORY_READERS, GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLES, type DirectoryAction } from './role-definitions.js';
import { DirectoryReader } from './directory-reader.js';
import { ApplicationWriter, GroupWriter, RoleWriter, SelfService, UserWriter } from './directory-writers.js';
import { AuthenticationMethods, GroupMfaRequirement } from './authentication-methods.js';

export type CallerKind = 'user' | 'servicePrincipal' | 'system';

/** What every signed-in user may do without any role (Entra's default user permissions). */
const MEMBER_DEFAULTS: readonly DirectoryAction[] = ['users.read', 'groups.read', 'applications.read', 'roles.read'];

export const INSUFFICIENT_PRIVILEGES = 'Insufficient privileges to complete the operation.';

export class DirectoryAccess {
  readonly #parts: DirectoryParts;
  readonly #grants: Grants;
  readonly actor: Actor;
  readonly kind: CallerKind;

  constructor(parts: DirectoryParts, actor: Actor, kind: CallerKind, grants: Grants) {
    this.#parts = parts;
    this.actor = actor;
    this.kind = kind;
    this.#grants = grants;
  }

  /** Whether the caller may do `action`, tenant-wide or (with an application object id) on that application. */
  can(action: DirectoryAction, applicationObjectId?: string): boolean {
    if (this.kind === 'system') return true;
    if (this.kind === 'user' && MEMBER_DEFAULTS.includes(action)) return true;
    if (this.#grants.actions.has(action)) return true;
    return applicationObjectId !== undefined && this.#grants.appActions.get(applicationObjectId)?.has(action) === true;
  }

  get isGlobalAdministrator(): boolean {
    return this.kind === 'system' || this.#grants.roleIds.has(GLOBAL_ADMINISTRATOR);
  }

  /** Role template ids the caller holds (Entra's `wids` claim carries the same). */
  get roleIds(): ReadonlySet<string> {
    return this.#grants.roleIds;
  }

  reader(): DirectoryReader {
    this.#require('users.read');
    return new DirectoryReader(this.#parts, this);
  }

  users(): UserWriter {
    this.#require('users.write');
    return new UserWriter(this.#parts, this);
  }

  groups(): GroupWriter {
    this.#require('groups.write');
    return new GroupWriter(this.#parts, this);
  }

  /** Tenant-wide application writers, and holders of an application-scoped role (checked per application). */
  applications(): ApplicationWriter {
    if (!this.can('applications.write') && ![...this.#grants.appActions.values()].some((s) => s.has('applications.write'))) {
      throw forbidden();
    }
    return new ApplicationWriter(this.#parts, this);
  }

  roleAssignments(): RoleWriter {
    this.#require('roles.write');
    return new RoleWriter(this.#parts, this);
  }

  /** /me: the signed-in user's own account. */
  self(): SelfService {
    if (this.kind !== 'user') throw new ForbiddenError('KH_FORBIDDEN', '/me is only available for a signed-in user.');
    return new SelfService(this.#parts, this);
  }

  /**
   * A user's second-factor methods and requirement (Graph's /users/{id}/authentication): the
   * user themself, or a user writer allowed to manage that user (privileged users: a Global
   * Administrator only, as for a password reset).
   */
  async authenticationMethods(userKey: string): Promise<AuthenticationMethods> {
    const user = await this.#parts.users.find(userKey);
    if (!user) throw notFound('KH_USER_NOT_FOUND', userKey);
    const self = this.kind === 'user' && this.actor.id === user.id;
    if (!self || this.can('users.write')) {
      this.#require('users.write');
      await this.assertMayManageUser(user.id);
      return new AuthenticationMethods(this.#parts.secondFactor, this.actor, user, true);
    }
    return new AuthenticationMethods(this.#parts.secondFactor, this.actor, user, false);
  }

  /** A group's second-factor requirement: set by user writers, since it governs how its members sign in. */
  async groupMfaRequirement(groupKey: string): Promise<GroupMfaRequirement> {
    this.#require('users.write');
    const group = await this.#parts.groups.find(groupKey);
    if (!group) throw notFound('KH_GROUP_NOT_FOUND', groupKey);
    return new GroupMfaRequirement(this.#parts.secondFactor, this.actor, group);
  }

  // Checks the writers call --------------------------------------------------------------

  /** A user holding a privileged role is managed only by a Global Administrator. */
  async assertMayManageUser(userId: string): Promise<void> {
    if (this.isGlobalAdministrator) return;
    const grants = await this.#parts.roles.grantsOf(userId);
    if ([...grants.roleIds].some((r) => PRIVILEGED_ROLES.has(r))) throw forbiddenPrivileged('user holds an administrator role');
  }

  async assertMayWriteApplication(app: ApplicationRow): Promise<void> {
    if (!this.can('applications.write', app.id)) throw forbidden();
  }

  /** Credentials of an application whose service principal holds directory roles are a Global Administrator's to issue. */
  async assertMayAddCredential(app: ApplicationRow): Promise<void> {
    await this.assertMayWriteApplication(app);
    if (this.isGlobalAdministrator) return;
    const sp = await this.#parts.deps.storage.read.servicePrincipals.byAppId(app.app_id);
    if (!sp) return;
    const grants = await this.#parts.roles.grantsOf(sp.id);
    if ([...grants.roleIds].some((r) => r !== DIRECTORY_READERS)) throw forbiddenPrivileged("application's service principal holds a directory role");
  }

  /** Tenant-wide application writing (creating applications and managed identities). */
  assertTenantWide(action: DirectoryAction): void {
    if (!this.can(action)) throw forbidden();
  }

  async application(key: string): Promise<ApplicationRow> {
    const app = await this.#parts.applications.find(key);
    if (!app) throw notFound('KH_APPLICATION_NOT_FOUND', key);
    return app;
  }

  #require(action: DirectoryAction): void {
    if (!this.can(action)) throw forbidden();
  }
}

export function forbidden(): ForbiddenError {
  return new ForbiddenError('KH_FORBIDDEN', INSUFFICIENT_PRIVILEGES);
}

function forbiddenPrivileged(why: string): ForbiddenError {
  return new ForbiddenError('KH_FORBIDDEN_PRIVILEGED', `${INSUFFICIENT_PRIVILEGES} Only a Global Administrator may do this (the ${why}).`);
}
