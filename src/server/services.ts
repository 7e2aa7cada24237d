// The services above the core: the directory (with its password policy and login throttle,
// one instance shared by every password-checking path), and the token service (signing keys,
// issuer, verifier, audiences). Built once per server and handed to the protocol faces.
import { RefusalRecorder } from '../audit/refusal-recorder.js';
import { DirectoryService } from '../directory/directory-service.js';
import { LoginThrottle, MemoryThrottleStore } from '../directory/login-throttle.js';
import { loadCommonPasswords, PasswordPolicy } from '../directory/password-policy.js';
import { SharedThrottleStore } from '../directory/shared-throttle-store.js';
import { Audiences } from '../tokens/audiences.js';
import { SigningKeys } from '../tokens/signing-keys.js';
import { TokenIssuer } from '../tokens/token-issuer.js';
import { StoredJtiStore } from '../tokens/assertion-jti-store.js';
import { ClientAssertionVerifier } from '../tokens/client-assertion.js';
import { ClientAuthenticator } from '../tokens/client-authentication.js';
import { directoryPrincipals } from '../tokens/directory-principals.js';
import { TokenService } from '../tokens/token-service.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import type { CoreServices } from './core.js';

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
  }, {
    // TOTP secrets are sealed by the same envelope as the server's own secrets.
    sealer: core.envelope,
    issuer: config.mfaTotpIssuer,
    enrollmentTimeoutSeconds: config.mfaEnrollmentTimeoutSeconds,
    requireWhenEnrolled: config.mfaRequiredWhenEnrolled,
  });
  // The in-process read model is loaded at start (and its change watch set up), not by the first search.
  await directory.readModel();
  const signingKeys = await SigningKeys.open(core.secrets);
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
  const assertions = new ClientAssertionVerifier({
    principals,
    jtis: new StoredJtiStore(core.storage, config.clientAssertionReuse),
    maxLifetimeSeconds: config.clientAssertionMaxLifetimeSeconds,
    // Entra takes an assertion addressed to either of the tenant's token endpoints.
    audiences: () => [`${base}/${core.tenantId}/oauth2/v2.0/token`, `${base}/${core.tenantId}/oauth2/token`, `${base}/adfs/oauth2/token`],
  });
  const refusals = new RefusalRecorder(core.audit, { windowMs: config.authRefusalWindowSeconds * 1000 });
  refusals.start();
  const clients = new ClientAuthenticator({ principals, assertions, throttle, refusals });
  const tokens = new TokenService({ issuer, audiences, clients, principals, audit: core.audit, passwordGrantEnabled: config.passwordGrant });
  return { core, directory, signingKeys, audiences, issuer, verifier, tokens, refusals };
}
