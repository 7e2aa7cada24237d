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
//    `keyhaven admin` commands that hold the master key;
//  - scopedReader(caller): the read model as one caller may see it (scoped-reader.ts), for a
//    face that serves directory entries to anonymous clients, users, service principals and
//    administrators alike (LDAP); ldapNames() for what a bind resolves before anyone is known.
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { SecretValue } from '../crypto/secret-value.js';
import { AppCredentials, type PublicCertificate } from './app-credentials.js';
import { Applications } from './applications.js';
import { Authentication, type AuthenticatedServicePrincipal, type AuthenticatedUser, type PasswordOnlySecondFactor } from './authentication.js';
import { DirectoryAccess } from './directory-access.js';
import { resolveOptions, SYSTEM_ACTOR, type Actor, type DirectoryDeps, type DirectoryOptions } from './directory-context.js';
import type { DirectoryParts } from './directory-parts.js';
import { managedIdentityPrincipals } from './managed-identity-principals.js';
import type { ManagedIdentityPrincipals } from '../resources/providers/managed-identity.js';
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
import { ImportedNamesIndex, type ImportedNames } from './read-model/imported-names.js';
import { ScopedReader, type ReaderCaller, type ScopedReaderSources, type VisibilityRules } from './scoped-reader.js';
import { ServicePrincipals } from './service-principals.js';
import type { GraphGroup, GraphUser } from './graph-objects.js';
import type { ImportedLdapEntry } from './ldap-entries.js';
import type { PrivateGroupRules } from './private-groups.js';
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

/** DirectoryService.ldapNames(). */
export interface LdapNames {
  bySourceDn(dn: string): Promise<{ kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup } | undefined>;
  user(id: string): Promise<GraphUser | undefined>;
  importedEntries(): Promise<ImportedLdapEntry[]>;
  namingContexts(): Promise<string[]>;
  privateGroupRules(): PrivateGroupRules;
  /** The attribute and object class names imported objects carry (names only), for the subschema. */
  importedSchemaNames(): Promise<ImportedNames>;
}

export class DirectoryService {
  readonly #parts: DirectoryParts;
  readonly #auth: Authentication;
  readonly #model: ReadModel;
  readonly #visibility: VisibilityRules;
  readonly #sources: ScopedReaderSources;
  readonly #importedNames: ImportedNamesIndex;

  /** Managed identities' service principals, written inside a resource's transaction. */
  managedIdentityPrincipals(): ManagedIdentityPrincipals {
    return managedIdentityPrincipals(this.#parts.servicePrincipals);
  }

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
      visibility: resolved.visibility,
    };
    this.#auth = new Authentication(core, throttle, users, this.#parts.secondFactor);
    this.#model = new ReadModel(core.storage);
    this.#visibility = resolved.visibility;
    this.#importedNames = new ImportedNamesIndex(() => this.#model.current());
    const names = () => this.system().reader();
    this.#sources = {
      importedEntries: () => names().importedLdapEntries(),
      namingContexts: () => names().importedNamingContexts(),
      privateGroupRules: () => privateGroups.rules,
    };
  }

  /**
   * The directory as `caller` may read it, for one operation (scoped-reader.ts): the read model
   * with the caller's visibility. Throws ForbiddenError KH_ANONYMOUS_READ_DISABLED (anonymous,
   * while anonymous reading is off) or KH_FORBIDDEN (a principal whose roles do not allow
   * reading the directory), UnauthenticatedError KH_CALLER_INACTIVE (disabled or deleted since
   * it authenticated). Costs what access() costs — the caller's state and role assignments —
   * and nothing per entry.
   */
  async scopedReader(caller: ReaderCaller): Promise<ScopedReader> {
    const model = await this.#model.current();
    if (caller.kind === 'anonymous') {
      if (!this.#visibility.anonymousRead) throw new ForbiddenError('KH_ANONYMOUS_READ_DISABLED', 'anonymous search is disabled: bind first');
      return new ScopedReader(model, this.#visibility, this.#sources, 'anonymous');
    }
    const access = await this.access({ id: caller.id, source: caller.source });
    if (!access.can('users.read')) throw new ForbiddenError('KH_FORBIDDEN', 'the bound identity may not read the directory');
    const kind = access.can('users.write') ? 'administrator' : access.kind === 'user' ? 'user' : 'servicePrincipal';
    return new ScopedReader(model, this.#visibility, this.#sources, kind, access.actor.id);
  }

  /**
   * What an LDAP bind and the Root DSE resolve before any caller is known: names, never
   * visibility. An imported object by its original DN, a user by id (the DN a bound user is
   * told), the imported entries (a bind-only account is bound by its DN), the naming contexts
   * (the Root DSE is readable by anyone, RFC 4512 §5.1), the private group rules, and the
   * attribute names imports brought (the subschema is readable by anyone, RFC 4512 §4.4).
   */
  ldapNames(): LdapNames {
    const reader = () => this.system().reader();
    return {
      bySourceDn: (dn) => reader().findBySourceDn(dn),
      user: async (id) => (await this.#model.current()).user(id),
      importedEntries: this.#sources.importedEntries,
      namingContexts: this.#sources.namingContexts,
      privateGroupRules: this.#sources.privateGroupRules,
      importedSchemaNames: () => this.#importedNames.current(),
    };
  }

  /**
   * The directory held in process (read-model/), as of the last commit this process has seen
   * (its own at once, other replicas' as their NOTIFY arrives): users, groups, memberships
   * and imported attributes, for the hot reads (LDAP searches). Loaded on first call; the
   * server calls it at start. Read-only: writes go through access(); never call it inside a
   * transaction's work. Objects carry no secret (graph-objects.ts), but every attribute is in
   * them: a face serving them to callers reads through scopedReader() instead.
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
   * An application's sign-in registration by client id (0007_browser_signin): its redirect
   * URIs as Graph's application has them and whether public-client flows are allowed.
   */
  async clientRegistration(appId: string): Promise<ClientRegistration | undefined> {
    const id = typeof appId === 'string' ? appId.trim().toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    const repos = this.#parts.deps.storage.read;
    const app = await repos.applications.byAppId(id);
    if (!app) return undefined;
    const sp = await repos.servicePrincipals.byAppId(id);
    const secrets = await repos.applications.countCredentials(app.id, 'password') + await repos.applications.countCredentials(app.id, 'certificate');
    return {
      appId: id,
      displayName: app.display_name,
      servicePrincipalEnabled: sp ? sp.account_enabled === 1 : true,
      hasCredentials: secrets > 0,
      web: redirectList(app.web_redirect_uris),
      publicClient: redirectList(app.public_client_redirect_uris),
      spa: redirectList(app.spa_redirect_uris),
      isFallbackPublicClient: app.is_fallback_public_client === 1,
    };
  }

  /** A user changes their own password proving the current one (the sign-in page's forced change). */
  changeOwnPassword(userId: string, currentPassword: string, newPassword: string, source: string): Promise<void> {
    return this.#parts.passwords.changeOwn(userId, currentPassword, newPassword, source);
  }

  /** What decides whether a user's earlier sign-in still counts: existence, enabled, password change, revocation. */
  async userSignInState(objectId: string): Promise<UserSignInState | undefined> {
    const id = typeof objectId === 'string' ? objectId.toLowerCase() : '';
    if (!isObjectId(id)) return undefined;
    const repos = this.#parts.deps.storage.read;
    const user = await repos.users.byId(id);
    if (!user) return undefined;
    const state: UserSignInState = {
      user: { kind: 'user', objectId: user.id, userPrincipalName: user.user_principal_name, username: user.username, displayName: user.display_name },
      enabled: user.account_enabled === 1,
    };
    if (user.given_name !== null) state.user.givenName = user.given_name;
    if (user.surname !== null) state.user.surname = user.surname;
    if (user.mail !== null) state.user.mail = user.mail;
    if (user.password_changed_at !== null) state.passwordChangedAt = Date.parse(user.password_changed_at);
    const validFrom = await repos.signinRevocations.validFrom(id);
    if (validFrom !== undefined) state.sessionsValidFrom = validFrom;
    return state;
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

  /** Whether the principal (existing and enabled) currently holds this directory role (read at request time, never from a token). */
  async holdsDirectoryRole(principalId: string, roleDefinitionId: string): Promise<boolean> {
    const status = await this.principal(principalId);
    if (!status || !status.enabled) return false;
    return (await this.#parts.roles.grantsOf(status.id)).roleIds.has(roleDefinitionId);
  }

  roleDefinitions(): readonly RoleDefinition[] {
    return ROLE_DEFINITIONS;
  }
}

export interface ClientRegistration {
  appId: string;
  displayName: string;
  /** The application's service principal is enabled (or it has none yet). */
  servicePrincipalEnabled: boolean;
  /** The application holds a client secret or certificate. */
  hasCredentials: boolean;
  web: string[];
  publicClient: string[];
  spa: string[];
  isFallbackPublicClient: boolean;
}

export interface UserSignInState {
  user: AuthenticatedUser;
  enabled: boolean;
  passwordChangedAt?: number;
  sessionsValidFrom?: number;
}

function redirectList(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
