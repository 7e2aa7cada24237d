// The write capabilities a DirectoryAccess hands out after its check. Each acts as the caller
// (audit actor = the caller's object id and source) and applies the per-object fences the
// role check alone cannot (privileged users, privileged applications, application scopes).
import { InvalidInputError } from '../errors.js';
import type { AddKeyInput, AddPasswordInput, NewPasswordCredential } from './app-credentials.js';
import type { ApplicationSignInInput, CreatedApplication, CreateApplicationInput } from './applications.js';
import { auditEvent, notFound } from './directory-context.js';
import type { DirectoryAccess } from './directory-access.js';
import type { DirectoryParts } from './directory-parts.js';
import type { AssignRoleInput } from './directory-roles.js';
import type {
  DirectoryObject, GraphApplication, GraphGroup, GraphRoleAssignment, GraphServicePrincipal, GraphUser, KeyCredential, PasswordCredential,
} from './graph-objects.js';
import type { CreateGroupInput, UpdateGroupInput } from './groups.js';
import type { ListOptions, ListResult } from './odata-query.js';
import type { CreateServicePrincipalInput, UpdateServicePrincipalInput } from './service-principals.js';
import type { CreateUserInput, UpdateUserInput } from './user-accounts.js';

export class UserWriter {
  constructor(private readonly parts: DirectoryParts, private readonly access: DirectoryAccess) {}

  async create(input: CreateUserInput): Promise<GraphUser> {
    return this.parts.users.create(this.access.actor, input);
  }

  async update(key: string, patch: UpdateUserInput, expectedVersion?: number): Promise<GraphUser> {
    await this.access.assertMayManageUser((await this.#user(key)).id);
    return this.parts.users.update(this.access.actor, key, patch, expectedVersion);
  }

  async delete(key: string): Promise<void> {
    await this.access.assertMayManageUser((await this.#user(key)).id);
    await this.parts.users.delete(this.access.actor, key);
  }

  /**
   * Graph's revokeSignInSessions: every refresh token and browser session of the user issued
   * before now stops working (Entra sets signInSessionsValidFromDateTime). Access tokens
   * already issued live out their (short) lifetime, as in Entra.
   */
  async revokeSignInSessions(key: string): Promise<void> {
    const user = await this.#user(key);
    await this.access.assertMayManageUser(user.id);
    await this.parts.deps.audit.write(auditEvent(this.access.actor, 'user.revokeSignInSessions', user.id, { username: user.username }), async (tx) => {
      const now = Date.now();
      await tx.signinRevocations.set(user.id, now);
      await tx.refreshTokens.revokeUser(user.id, now, 'revokeSignInSessions');
    });
  }

  async resetPassword(key: string, password: string, forceChange = false): Promise<void> {
    const user = await this.#user(key);
    await this.access.assertMayManageUser(user.id);
    await this.parts.passwords.reset(this.access.actor, user, password, forceChange);
  }

  async #user(key: string) {
    const user = await this.parts.users.find(key);
    if (!user) throw notFound('KH_USER_NOT_FOUND', key);
    return user;
  }
}

export class GroupWriter {
  constructor(private readonly parts: DirectoryParts, private readonly access: DirectoryAccess) {}

  async create(input: CreateGroupInput): Promise<GraphGroup> {
    return this.parts.groups.create(this.access.actor, input);
  }

  async update(key: string, patch: UpdateGroupInput, expectedVersion?: number): Promise<GraphGroup> {
    return this.parts.groups.update(this.access.actor, key, patch, expectedVersion);
  }

  async delete(key: string): Promise<void> {
    return this.parts.groups.delete(this.access.actor, key);
  }

  async addMember(groupKey: string, memberId: string): Promise<void> {
    return this.parts.membership.add(this.access.actor, groupKey, memberId);
  }

  async removeMember(groupKey: string, memberId: string): Promise<void> {
    return this.parts.membership.remove(this.access.actor, groupKey, memberId);
  }
}

export class ApplicationWriter {
  constructor(private readonly parts: DirectoryParts, private readonly access: DirectoryAccess) {}

  /** New registrations need tenant-wide Application Administrator (or Global Administrator). */
  async create(input: CreateApplicationInput): Promise<CreatedApplication> {
    this.access.assertTenantWide('applications.write');
    return this.parts.applications.create(this.access.actor, input);
  }

  async update(key: string, patch: { displayName?: string } & ApplicationSignInInput, expectedVersion?: number): Promise<GraphApplication> {
    await this.access.assertMayWriteApplication(await this.access.application(key));
    return this.parts.applications.update(this.access.actor, key, patch, expectedVersion);
  }

  async delete(key: string): Promise<void> {
    await this.access.assertMayWriteApplication(await this.access.application(key));
    await this.parts.applications.delete(this.access.actor, key);
  }

  /** Graph's addPassword: the returned secretText is shown once and never stored. */
  async addPassword(key: string, input?: AddPasswordInput): Promise<NewPasswordCredential> {
    const app = await this.access.application(key);
    await this.access.assertMayAddCredential(app);
    return this.parts.credentials.addPassword(this.access.actor, app, input);
  }

  async removePassword(key: string, keyId: string): Promise<void> {
    const app = await this.access.application(key);
    await this.access.assertMayWriteApplication(app);
    await this.parts.credentials.remove(this.access.actor, app, keyId, 'password');
  }

  async addKey(key: string, input: AddKeyInput): Promise<KeyCredential> {
    const app = await this.access.application(key);
    await this.access.assertMayAddCredential(app);
    return this.parts.credentials.addKey(this.access.actor, app, input);
  }

  async removeKey(key: string, keyId: string): Promise<void> {
    const app = await this.access.application(key);
    await this.access.assertMayWriteApplication(app);
    await this.parts.credentials.remove(this.access.actor, app, keyId, 'certificate');
  }

  /** Credential metadata (keyId, hint, dates, thumbprints); never a secret. */
  async listCredentials(key: string): Promise<{ passwordCredentials: PasswordCredential[]; keyCredentials: KeyCredential[] }> {
    const app = await this.access.application(key);
    if (!this.access.can('credentials.read', app.id)) await this.access.assertMayWriteApplication(app);
    return this.parts.credentials.list(app);
  }

  /** For an application (application-scoped writers included), or a managed identity (tenant-wide only). */
  async createServicePrincipal(input: CreateServicePrincipalInput): Promise<GraphServicePrincipal> {
    if (input?.servicePrincipalType === 'ManagedIdentity') this.access.assertTenantWide('applications.write');
    else await this.access.assertMayWriteApplication(await this.access.application(String(input?.appId ?? '')));
    return this.parts.servicePrincipals.create(this.access.actor, input);
  }

  async updateServicePrincipal(key: string, patch: UpdateServicePrincipalInput, expectedVersion?: number): Promise<GraphServicePrincipal> {
    await this.#assertMayWriteServicePrincipal(key);
    return this.parts.servicePrincipals.update(this.access.actor, key, patch, expectedVersion);
  }

  async deleteServicePrincipal(key: string): Promise<void> {
    await this.#assertMayWriteServicePrincipal(key);
    await this.parts.servicePrincipals.delete(this.access.actor, key);
  }

  async #assertMayWriteServicePrincipal(key: string): Promise<void> {
    const sp = await this.parts.servicePrincipals.find(key);
    if (!sp) throw notFound('KH_SERVICE_PRINCIPAL_NOT_FOUND', key);
    const app = await this.parts.applications.find(sp.app_id);
    if (app) await this.access.assertMayWriteApplication(app);
    else this.access.assertTenantWide('applications.write');
  }
}

export class RoleWriter {
  constructor(private readonly parts: DirectoryParts, private readonly access: DirectoryAccess) {}

  async assign(input: AssignRoleInput): Promise<GraphRoleAssignment> {
    return this.parts.roles.assign(this.access.actor, input);
  }

  async remove(assignmentId: string): Promise<void> {
    return this.parts.roles.remove(this.access.actor, assignmentId);
  }
}

/** The signed-in user's own account (Graph's /me). */
export class SelfService {
  constructor(private readonly parts: DirectoryParts, private readonly access: DirectoryAccess) {}

  async me(): Promise<GraphUser> {
    return this.parts.users.get(this.access.actor.id);
  }

  /** POST /me/changePassword. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    if (typeof currentPassword !== 'string' || typeof newPassword !== 'string') {
      throw new InvalidInputError('KH_PASSWORD_INVALID', 'currentPassword and newPassword are required.');
    }
    return this.parts.passwords.changeOwn(this.access.actor.id, currentPassword, newPassword, this.access.actor.source ?? '');
  }

  async memberOf(options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.parts.membership.memberOf(this.access.actor.id, options);
  }

  async transitiveMemberOf(options?: ListOptions): Promise<ListResult<DirectoryObject>> {
    return this.parts.membership.transitiveMemberOf(this.access.actor.id, options);
  }
}
