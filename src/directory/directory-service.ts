// The directory core that the protocol faces call: the Graph-shaped HTTP API, the token
// service, and later LDAP. It wires the parts (users, groups, membership, applications,
// credentials, service principals, roles) and offers three kinds of entry:
//
//  - authentication: authenticateUser (password grant, LDAP bind) and
//    authenticateClientSecret (client_credentials), each audited;
//  - token-time lookups: principal() (is this oid still there and enabled?),
//    transitiveGroupIds() (the groups claim), clientCertificates() (client assertions);
//  - everything else through access(caller) → DirectoryAccess → reader() / users() /
//    groups() / applications() / roleAssignments() / self(): a capability is handed out only
//    after the caller's current role assignments allow it (directory-access.ts).
//    system() is the same with every right, for the server's own start-up work and the
//    `keyhaven admin` commands that hold the master key.
import { UnauthenticatedError } from '../errors.js';
import type { SecretValue } from '../crypto/secret-value.js';
import { AppCredentials, type PublicCertificate } from './app-credentials.js';
import { Applications } from './applications.js';
import { Authentication, type AuthenticatedServicePrincipal, type AuthenticatedUser, type PasswordOnlySecondFactor } from './authentication.js';
import { DirectoryAccess } from './directory-access.js';
import { resolveOptions, SYSTEM_ACTOR, type Actor, type DirectoryDeps, type DirectoryOptions } from './directory-context.js';
import type { DirectoryParts } from './directory-parts.js';
import { DirectoryRoles } from './directory-roles.js';
import { GroupMembership, TOKEN_GROUPS_LIMIT } from './group-membership.js';
import { PrivateGroupReads } from './private-group-reads.js';
import { Groups } from './groups.js';
import type { LoginThrottle } from './login-throttle.js';
import { isObjectId } from './odata-query.js';
import type { PasswordPolicy } from './password-policy.js';
import { ROLE_DEFINITIONS, type DirectoryAction, type RoleDefinition } from './role-definitions.js';
import type { DirectoryModel } from './read-model/directory-model.js';
import { ReadModel } from './read-model/read-model.js';
import { SecondFactor, type SecondFactorOptions, type SecretSealer } from './second-factor.js';
import type { SecondFactorSignIn } from './second-factor-sign-in.js';
import { ServicePrincipals } from './service-principals.js';
import { UserAccounts } from './user-accounts.js';
import { UserPasswords } from './user-passwords.js';

/** The authenticated caller of a request: the token's `oid`, and where the request came from. */
export interface Caller {
  id: string;
  source?: string | undefined;
  correlationId?: string | undefined;
}

/** What a token verifier needs to know about an `oid` right now. */
export interface DirectoryPrincipal {
  kind: 'user' | 'servicePrincipal';
  id: string;
  enabled: boolean;
  /** Service principals: the client id. */
  appId?: string;
  displayName: string;
}

/** Options of a sign-in check (see src/tokens/token-principals.ts). */
export interface SignInOptions {
  /** The caller writes the success record itself, with what it did (one record per token). */
  deferSuccessAudit?: boolean;
  /** The caller records refusals itself (client secrets: aggregated per source). */
  deferRefusalAudit?: boolean;
  /** Users, password-only sign-ins (LDAP bind): what a user who must use a second factor needs (authentication.ts). */
  secondFactor?: PasswordOnlySecondFactor;
}

export interface ClientApplication {
  appId: string;
  displayName: string;
  servicePrincipal: { objectId: string; displayName: string; enabled: boolean } | undefined;
  certificates: PublicCertificate[];
}

/** How the second factor is set up: the envelope that seals TOTP secrets, and its settings. */
export interface SecondFactorSetup extends SecondFactorOptions {
  sealer?: SecretSealer;
}

export class DirectoryService {
  readonly #parts: DirectoryParts;
  readonly #auth: Authentication;
  readonly #model: ReadModel;

  constructor(core: DirectoryDeps, policy: PasswordPolicy, throttle: LoginThrottle, options: DirectoryOptions = {}, secondFactor: SecondFactorSetup = {}) {
    const resolved = resolveOptions(options);
    const { sealer, ...secondFactorOptions } = secondFactor;
    const users = new UserAccounts(core, policy, resolved);
    const privateGroups = new PrivateGroupReads(core.storage.read, resolved);
    const groups = new Groups(core, resolved, privateGroups);
    const servicePrincipals = new ServicePrincipals(core);
    this.#parts = {
      deps: core,
      users,
      passwords: new UserPasswords(core, policy, throttle),
      groups,
      privateGroups,
      membership: new GroupMembership(core, groups),
      applications: new Applications(core, servicePrincipals),
      credentials: new AppCredentials(core),
      servicePrincipals,
      roles: new DirectoryRoles(core),
      secondFactor: new SecondFactor({ storage: core.storage, audit: core.audit, throttle, sealer }, secondFactorOptions),
    };
    this.#auth = new Authentication(core, throttle, users, this.#parts.secondFactor);
    this.#model = new ReadModel(core.storage);
  }

  /**
   * The directory held in process (read-model/), as of the last commit this process has seen
   * (its own at once, other replicas' as their NOTIFY arrives): users, groups, memberships
   * and imported attributes, for the hot reads (LDAP searches). Loaded on first call; the
   * server calls it at start. Read-only: writes go through access(); never call it inside a
   * transaction's work. Objects carry no secret (graph-objects.ts); who may see what is the
   * caller's to apply.
   */
  readModel(): Promise<DirectoryModel> {
    return this.#model.current();
  }

  /** Full loads of the read model so far (the first, and one per resync after missed notifications). */
  get readModelLoads(): number {
    return this.#model.fullLoads;
  }

  /**
   * A user's name (userPrincipalName or short login name) and password. Throws
   * UnauthenticatedError KH_INVALID_CREDENTIALS (unknown user and wrong password alike),
   * KH_ACCOUNT_DISABLED (only after the right password), or ThrottledError KH_ACCOUNT_LOCKED /
   * KH_SOURCE_THROTTLED with retryAfterSeconds. `source`: the client's IP address.
   */
  authenticateUser(name: string, password: SecretValue, source: string, correlationId?: string, options: SignInOptions = {}): Promise<AuthenticatedUser> {
    return this.#auth.authenticateUser(name, password, { source, correlationId, ...options });
  }

  /**
   * An application's client id and secret. Throws UnauthenticatedError KH_CLIENT_NOT_FOUND,
   * KH_INVALID_CLIENT_SECRET, KH_CLIENT_SECRET_EXPIRED or KH_CLIENT_DISABLED.
   */
  authenticateClientSecret(appId: string, secret: SecretValue, source: string, correlationId?: string, options: SignInOptions = {}): Promise<AuthenticatedServicePrincipal> {
    return this.#auth.authenticateClientSecret(appId, secret, { source, correlationId, ...options });
  }

  /**
   * An LDIF-imported bind-only account's original DN and password (ldap-entries.ts): the
   * service principal it binds as. Throws UnauthenticatedError KH_INVALID_CREDENTIALS (unknown
   * DN and wrong password alike) or KH_CLIENT_DISABLED, or ThrottledError.
   */
  authenticateLdapAccount(dn: string, password: string, source: string, correlationId?: string): Promise<AuthenticatedServicePrincipal> {
    return this.#auth.authenticateLdapAccount(dn, password, { source, correlationId });
  }

  /**
   * The second factor as sign-in flows use it (second-factor-sign-in.ts): whether a user must
   * present one, checking a code, and enrolment during sign-in. Admin and self-service
   * management goes through access(caller).authenticationMethods(user).
   */
  get secondFactor(): SecondFactorSignIn {
    return this.#parts.secondFactor;
  }

  /** The user or service principal behind an object id, or undefined if it no longer exists. */
  async principal(objectId: string): Promise<DirectoryPrincipal | undefined> {
    const id = typeof objectId === 'string' ? objectId.toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    const repos = this.#parts.deps.storage.read;
    const user = await repos.users.byId(id);
    if (user) return { kind: 'user', id, enabled: user.account_enabled === 1, displayName: user.display_name };
    const sp = await repos.servicePrincipals.byId(id);
    if (sp) return { kind: 'servicePrincipal', id, enabled: sp.account_enabled === 1, appId: sp.app_id, displayName: sp.display_name };
    return undefined;
  }

  /** Whether the object id is a user or service principal that exists and is enabled (bearer-token check on every request). */
  async isActive(objectId: string): Promise<boolean> {
    return (await this.principal(objectId))?.enabled === true;
  }

  /** Up to max + 1 group ids (transitive): more than max means Entra's groups overage claim. */
  transitiveGroupIds(principalId: string, max = TOKEN_GROUPS_LIMIT): Promise<string[]> {
    return this.#parts.membership.transitiveGroupIds(principalId, max);
  }

  /** An application's certificates by its client id, for client assertions; empty if none. */
  async clientCertificates(appId: string): Promise<PublicCertificate[]> {
    return (await this.clientApplication(appId))?.certificates ?? [];
  }

  /**
   * What the token endpoint knows of a client id: the application's name, its service
   * principal and its certificates. By appId only — never by object id, so an assertion's
   * `iss` cannot name an application by its object id.
   */
  async clientApplication(appId: string): Promise<ClientApplication | undefined> {
    const id = typeof appId === 'string' ? appId.trim().toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    const repos = this.#parts.deps.storage.read;
    const app = await repos.applications.byAppId(id);
    const sp = await repos.servicePrincipals.byAppId(id);
    if (!app && !sp) return undefined;
    return {
      appId: id,
      displayName: app?.display_name ?? sp!.display_name,
      servicePrincipal: sp ? { objectId: sp.id, displayName: sp.display_name, enabled: sp.account_enabled === 1 } : undefined,
      certificates: app ? await this.#parts.credentials.publicCertificates(app) : [],
    };
  }

  /**
   * The caller's access for one request, from the directory's current state: a caller that
   * no longer exists or is disabled is refused (KH_CALLER_INACTIVE), whatever its token says.
   */
  async access(caller: Caller): Promise<DirectoryAccess> {
    const status = await this.principal(caller.id);
    if (!status || !status.enabled) {
      throw new UnauthenticatedError('KH_CALLER_INACTIVE', 'The signed-in user or application no longer exists or is disabled.');
    }
    const grants = await this.#parts.roles.grantsOf(status.id);
    const actor: Actor = { id: status.id, source: caller.source, correlationId: caller.correlationId };
    return new DirectoryAccess(this.#parts, actor, status.kind, grants);
  }

  /** Every right, acting as `system` (or the given actor): start-up work and master-key admin commands only. */
  system(actor: Actor = SYSTEM_ACTOR): DirectoryAccess {
    return new DirectoryAccess(this.#parts, actor, 'system', { actions: new Set(), appActions: new Map(), roleIds: new Set() });
  }

  /** Whether a principal's current role assignments (or a signed-in user's defaults) allow `action`. */
  async can(principalId: string, action: DirectoryAction, applicationObjectId?: string): Promise<boolean> {
    try {
      return (await this.access({ id: principalId })).can(action, applicationObjectId);
    } catch (err) {
      if (err instanceof UnauthenticatedError) return false;
      throw err;
    }
  }

  roleDefinitions(): readonly RoleDefinition[] {
    return ROLE_DEFINITIONS;
  }
}
