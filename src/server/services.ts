// The services above the core: the directory (with its password policy and login throttle,
// one instance shared by every password-checking path), and the token service (signing keys,
// issuer, verifier, audiences). Built once per server and handed to the protocol faces.
import { RefusalRecorder } from '../audit/refusal-recorder.js';
import { DirectoryService } from '../directory/directory-service.js';
import { LoginThrottle, MemoryThrottleStore } from '../directory/login-throttle.js';
import { loadCommonPasswords, PasswordPolicy } from '../directory/password-policy.js';
import { SharedThrottleStore } from '../directory/shared-throttle-store.js';
import { Audiences } from '../tokens/audiences.js';
import { SigningKeys, type SigningKeysOptions, type SigningKeyTransition } from '../tokens/signing-keys.js';
import { DEFAULT_TOKEN_LIFETIME_SECONDS, TokenIssuer } from '../tokens/token-issuer.js';
import { StoredJtiStore } from '../tokens/assertion-jti-store.js';
import { ClientAssertionVerifier } from '../tokens/client-assertion.js';
import { ClientAuthenticator } from '../tokens/client-authentication.js';
import { directoryPrincipals } from '../tokens/directory-principals.js';
import { TokenService } from '../tokens/token-service.js';
import { randomBytes } from 'node:crypto';
import { AuthorizationCodes } from '../tokens/signin/authorization-codes.js';
import { BrowserSignIn } from '../tokens/signin/browser-signin.js';
import { DeviceAuthorizations } from '../tokens/signin/device-authorizations.js';
import { IdTokens } from '../tokens/signin/id-tokens.js';
import { RefreshTokens } from '../tokens/signin/refresh-tokens.js';
import { SigninSessions } from '../tokens/signin/signin-sessions.js';
import { DeviceCodeEndpoint } from '../tokens/signin/device-code-endpoint.js';
import { UserInfo } from '../tokens/signin/userinfo.js';
import { GuessLimiter } from '../tokens/signin/guess-limiter.js';
import { TokenRevocation } from '../tokens/signin/token-revocation.js';
import { DEFAULT_CLOCK_SKEW_SECONDS, TokenVerifier } from '../tokens/token-verifier.js';
import type { ResolvedConfig } from '../config/load.js';
import type { CoreServices } from './core.js';
import { AuthorizationIndex } from '../authz/authorization-index.js';
import { Authorizer } from '../authz/authorizer.js';
import { CustomRoles } from '../authz/custom-roles.js';
import { RoleAssignments } from '../authz/role-assignments.js';
import { ResourceManager } from '../resources/resource-manager.js';
import { ResourceTypes } from '../resources/resource-types.js';
import { registerComputeTypes } from '../resources/providers/compute.js';
import { registerKeyVaultTypes } from '../resources/providers/key-vault.js';
import { SecretService } from '../vault/secret-service.js';
import { VaultAccess } from '../vault/vault-access.js';
import { PurgeSchedule } from '../vault/purge-schedule.js';
import { DeletedVaults } from '../vault/deleted-vaults.js';
import { registerManagedIdentityTypes } from '../resources/providers/managed-identity.js';
import { MachineService } from '../machines/machine-service.js';
import { MachineStatus } from '../machines/machine-status.js';
import { MachineIdentities } from '../machines/machine-identities.js';

export interface Services {
  core: CoreServices;
  directory: DirectoryService;
  signingKeys: SigningKeys;
  audiences: Audiences;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  tokens: TokenService;
  /** Aggregated audit of anonymous refusals; closed before the audit log is flushed. */
  refusals: RefusalRecorder;
  /** The browser sign-in (authorize, sessions, logout) and the device page. */
  browserSignIn: BrowserSignIn;
  devices: DeviceAuthorizations;
  deviceCodes: DeviceCodeEndpoint;
  userInfo: UserInfo;
  revocation: TokenRevocation;
  /** The key the sign-in forms' CSRF tokens are made with (shared by replicas). */
  csrfKey: Buffer;
  /** The management plane: the resource tree and RBAC (one evaluator for every API). */
  resources: ResourceManager;
  authorizer: Authorizer;
  roleAssignments: RoleAssignments;
  customRoles: CustomRoles;
  /** The Key Vault data plane (secrets), authorized by access policies or RBAC per vault. */
  secrets: SecretService;
  /** Purges soft-deleted secrets and vaults after retention; closed before the audit log is flushed. */
  vaultPurge: PurgeSchedule;
  deletedVaults: DeletedVaults;
  /** Machine enrollment: join tokens, joined machines, their revocation set. */
  machines: MachineService;
}

export async function buildServices(core: CoreServices): Promise<Services> {
  const { config } = core;
  const policy = new PasswordPolicy({ minLength: config.passwordMinLength, commonPasswords: loadCommonPasswords() });
  // Replicas on one PostgreSQL share lockout state; a SQLite server is a single process.
  const store = core.storage.engine === 'postgres' ? new SharedThrottleStore(core.storage) : new MemoryThrottleStore();
  const throttle = new LoginThrottle(store, {
    threshold: config.lockoutThreshold,
    baseDelaySeconds: config.lockoutBaseDelaySeconds,
    maxDelaySeconds: config.lockoutMaxDelaySeconds,
    trustedSources: config.trustedSources,
  });
  const directory = new DirectoryService(core, policy, throttle, {
    reservedGroupNames: config.reservedGroupNames,
    userPrivateGroups: config.userPrivateGroups,
    visibility: {
      anonymousRead: config.ldapAnonymousSearch,
      usersSeeOthers: config.ldapUsersSeeOthers,
      privateAttributes: config.ldapPrivateAttributes,
    },
  }, {
    // TOTP secrets are sealed by the same envelope as the server's own secrets.
    sealer: core.envelope,
    issuer: config.mfaTotpIssuer,
    enrollmentTimeoutSeconds: config.mfaEnrollmentTimeoutSeconds,
    requireWhenEnrolled: config.mfaRequiredWhenEnrolled,
  });
  // The in-process read model is loaded at start (and its change watch set up), not by the first search.
  await directory.readModel();
  const signingKeys = await openSigningKeys(core);
  await signingKeys.watch();
  const audiences = new Audiences({
    publicUrl: config.publicUrl,
    vaultDnsSuffix: config.vaultDnsSuffix,
    httpsPort: config.httpsPort === 0 ? 443 : config.httpsPort,
    applicationExists: async (appId) => (await core.storage.read.applications.byAppId(appId)) !== undefined,
  });
  const issuer = new TokenIssuer({ keys: signingKeys, publicUrl: config.publicUrl, tenantId: core.tenantId });
  const verifier = new TokenVerifier({ keys: signingKeys, publicUrl: config.publicUrl, tenantId: core.tenantId });
  const principals = directoryPrincipals(directory);
  const base = config.publicUrl.replace(/\/+$/, '');
  const refusals = new RefusalRecorder(core.audit, { windowMs: config.authRefusalWindowSeconds * 1000 });
  refusals.start();
  const machineStatus = new MachineStatus(core.storage);
  await machineStatus.start();
  const machines = new MachineService({
    storage: core.storage,
    audit: core.audit,
    credentials: core.credentials,
    status: machineStatus,
    publicUrl: base,
    tenantId: core.tenantId,
    joinTokenDefaultLifetimeSeconds: Math.min(config.machineJoinTokenLifetimeSeconds, config.machineJoinTokenMaxLifetimeSeconds),
    joinTokenMaxLifetimeSeconds: config.machineJoinTokenMaxLifetimeSeconds,
    poolTokenDefaultUses: Math.min(config.machinePoolTokenDefaultUses, config.machinePoolTokenMaxUses),
    poolTokenMaxUses: config.machinePoolTokenMaxUses,
    refusals,
    now: () => Date.now() + config.machineClockOffsetSeconds * 1000,
  });
  const assertions = new ClientAssertionVerifier({
    machines,
    principals,
    jtis: new StoredJtiStore(core.storage, config.clientAssertionReuse),
    maxLifetimeSeconds: config.clientAssertionMaxLifetimeSeconds,
    // Entra takes an assertion addressed to either of the tenant's token endpoints.
    audiences: () => [`${base}/${core.tenantId}/oauth2/v2.0/token`, `${base}/${core.tenantId}/oauth2/token`, `${base}/adfs/oauth2/token`],
  });
  const clients = new ClientAuthenticator({ principals, assertions, throttle, refusals });
  const sessions = new SigninSessions({ storage: core.storage, principals, lifetimeSeconds: config.signInSessionLifetimeSeconds });
  const refreshTokens = new RefreshTokens({ storage: core.storage, principals, lifetimeSeconds: config.refreshTokenLifetimeSeconds });
  const codes = new AuthorizationCodes({ storage: core.storage, refreshTokens, lifetimeSeconds: config.authorizationCodeLifetimeSeconds });
  const devices = new DeviceAuthorizations({ storage: core.storage, guesses: new GuessLimiter({ store, maxGuesses: config.lockoutThreshold, windowSeconds: config.lockoutMaxDelaySeconds }), lifetimeSeconds: config.deviceCodeLifetimeSeconds, intervalSeconds: config.deviceCodeIntervalSeconds });
  const idTokens = new IdTokens({ keys: signingKeys, publicUrl: config.publicUrl, tenantId: core.tenantId });
  const browserSignIn = new BrowserSignIn({ principals, audiences, codes, sessions });
  const csrfKey = await core.secrets.getOrCreate('signin_csrf_key', () => randomBytes(32));
  const tokens = new TokenService({
    issuer, audiences, clients, principals, audit: core.audit, passwordGrantEnabled: config.passwordGrant,
    signIn: { codes, refreshTokens, devices, idTokens },
    machineIdentities: new MachineIdentities(core.storage),
  });
  const deviceCodes = new DeviceCodeEndpoint({ clients, principals, audiences, devices });
  const userInfo = new UserInfo({ verifier, audiences, principals });
  const revocation = new TokenRevocation({ clients, refreshTokens, audit: core.audit });
  // Resource types are registered by the parts that own them; the resource manager knows none.
  const types = new ResourceTypes();
  const identities = { tenantId: core.tenantId, principals: directory.managedIdentityPrincipals() };
  registerManagedIdentityTypes(types, identities);
  registerComputeTypes(types, identities, { beforeDelete: (tx, resource) => machines.resourceDeleted(tx, resource) });
  registerKeyVaultTypes(types, { tenantId: core.tenantId, vaultDnsSuffix: config.vaultDnsSuffix, httpsPort: config.httpsPort === 0 ? 443 : config.httpsPort });
  const resources = new ResourceManager({ storage: core.storage, audit: core.audit, types });
  const index = new AuthorizationIndex(core.storage);
  const authorizer = new Authorizer(index, {
    transitiveGroupsOf: async (id) => (await directory.readModel()).transitiveGroupsOf(id),
  });
  // Loaded at start (and its change watch set up), like the directory's read model.
  await index.current();
  const roleAssignments = new RoleAssignments({ storage: core.storage, audit: core.audit, index });
  const customRoles = new CustomRoles({ storage: core.storage, audit: core.audit, index });
  const secrets = new SecretService({ storage: core.storage, envelope: core.envelope, audit: core.audit, access: new VaultAccess(authorizer) });
  const vaultPurge = new PurgeSchedule(secrets, config.vaultPurgeIntervalSeconds * 1000, () => undefined);
  vaultPurge.start();
  return { core, directory, signingKeys, audiences, issuer, verifier, tokens, refusals, browserSignIn, devices, deviceCodes, userInfo, revocation, csrfKey, resources, authorizer, roleAssignments, customRoles, machines, secrets, vaultPurge, deletedVaults: new DeletedVaults({ storage: core.storage, audit: core.audit }) };
}

/** The signing-key lifecycle from configuration (shared by `serve` and `keyhaven admin rotate-signing-key`). */
export function signingKeyOptions(config: ResolvedConfig): SigningKeysOptions {
  const refreshIntervalMs = config.signingKeyRefreshSeconds * 1000;
  return {
    rotationMs: config.signingKeyRotationDays * 24 * 3600_000,
    prepublishMs: config.signingKeyPrepublishHours * 3600_000,
    // Until every token the key signed has expired for every verifier: the longest lifetime,
    // the verifiers' clock skew, and one refresh interval for a replica still signing with it.
    retainMs: (DEFAULT_TOKEN_LIFETIME_SECONDS.max + DEFAULT_CLOCK_SKEW_SECONDS) * 1000 + refreshIntervalMs,
    refreshIntervalMs,
  };
}

export function openSigningKeys(core: CoreServices, actor = 'system'): Promise<SigningKeys> {
  return SigningKeys.open(core.storage, core.envelope, {
    ...signingKeyOptions(core.config),
    legacySecrets: core.secrets,
    onTransition: (t) => core.audit.record(transitionEvent(t, actor)),
  });
}

function transitionEvent(t: SigningKeyTransition, actor: string) {
  const details: Record<string, string> = { reason: t.reason };
  if (t.published) details.published = t.published;
  if (t.activated) details.activated = t.activated;
  if (t.retired.length > 0) details.retired = t.retired.join(',');
  if (t.removed.length > 0) details.removed = t.removed.join(',');
  return { actor, action: 'signingkey.rotate', target: t.activated ?? t.published ?? t.retired[0] ?? t.removed[0] ?? '', details };
}
