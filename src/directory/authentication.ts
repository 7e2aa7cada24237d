// Proving who a caller is: a user's name and password (the token endpoint's password grant,
// later LDAP simple bind) and an application's client secret (client_credentials). Every
// attempt, success or failure, is audited without the password or secret; a success is
// returned only once its record is durable.
//
// Users: the login throttle runs first (per account as typed, per source), for known and
// unknown names alike; an unknown name costs the same scrypt work as a known one
// (verifyDummy) and gets the same error code and message as a wrong password, so neither
// answer nor timing tells whether the account exists (OWASP Authentication Cheat Sheet;
// Entra answers both with AADSTS50126). Only after the right password does a disabled account
// say so (Entra's AADSTS50057): someone who knows the password learns nothing new. A hash made
// under older scrypt parameters is replaced on the spot (transparent rehash).
//
// Applications: Entra tells an unknown client (AADSTS700016), a wrong secret (AADSTS7000215),
// an expired one (AADSTS7000222) and a disabled application (AADSTS7000112) apart; so does
// Keyhaven, through distinct codes. A presented secret is compared with every stored digest in
// constant time, without stopping at the first match, so timing says nothing about which one.
import { SecretValue } from '../crypto/secret-value.js';
import { ThrottledError, UnauthenticatedError } from '../errors.js';
import type { AuditDetails } from '../audit/audit-log.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import type { DirectoryDeps } from './directory-context.js';
import type { LoginThrottle } from './login-throttle.js';
import { findEntryByDn } from './ldap-entries.js';
import { isObjectId } from './odata-query.js';
import type { UserAccounts } from './user-accounts.js';
import type { SecondFactor } from './second-factor.js';
import { TOTP_DIGITS } from './totp-codes.js';

/**
 * What a password-only sign-in (LDAP simple bind) does for a user who must use a second factor:
 *  - `ignore`: the password alone signs in (LDAP clients cannot prompt for a code);
 *  - `append`: FreeIPA's convention — the password followed by the current 6-digit code, both
 *    checked; without an active factor such a user cannot sign in this way;
 *  - `refuse`: such users cannot sign in this way at all.
 */
export type PasswordOnlySecondFactor = 'ignore' | 'append' | 'refuse';

export interface AuthenticatedUser {
  kind: 'user';
  /** The user's object id: a token's `oid`. */
  objectId: string;
  userPrincipalName: string;
  /** The short login name. */
  username: string;
  displayName: string;
  /** Absent when the user has none (token claims are then left out, as Entra does). */
  givenName?: string;
  surname?: string;
  mail?: string;
  /** An administrator set forceChangePasswordNextSignIn: a new password is due before any token. */
  mustChangePassword?: boolean;
}

export interface AuthenticatedServicePrincipal {
  kind: 'servicePrincipal';
  /** The service principal's object id: a token's `oid` and `sub`. */
  objectId: string;
  /** The client id: a token's `appid` / `azp`. */
  appId: string;
  displayName: string;
  servicePrincipalType: 'Application' | 'ManagedIdentity';
  /** Which password credential matched (for the audit trail and `keyhaven ad app credential list`). */
  credentialKeyId: string;
}

export interface AttemptContext {
  source: string;
  correlationId?: string | undefined;
  /** The caller records the success (the token endpoint: one record per issued token). Refusals are always recorded here. */
  deferSuccessAudit?: boolean | undefined;
  /** The caller audits refusals itself (the token endpoint aggregates them per source, refusal-recorder.ts). Client secrets only. */
  deferRefusalAudit?: boolean | undefined;
  /** Users only: what a user who must use a second factor needs here (default `ignore`: the caller decides, as the password grant does). */
  secondFactor?: PasswordOnlySecondFactor | undefined;
}

const MAX_NAME_LENGTH = 256;
const MAX_SECRET_LENGTH = 512;

export const INVALID_USER_CREDENTIALS = 'Error validating credentials due to invalid username or password.';

export class Authentication {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly throttle: LoginThrottle,
    private readonly users: UserAccounts,
    private readonly secondFactor: SecondFactor,
  ) {}

  async authenticateUser(name: string, secret: SecretValue, ctx: AttemptContext): Promise<AuthenticatedUser> {
    const typed = typeof name === 'string' ? name.trim().slice(0, MAX_NAME_LENGTH) : '';
    const audit = (actor: string, target: string, outcome: 'success' | 'failure' | 'denied', details: AuditDetails) =>
      this.deps.audit.record({ actor, action: 'user.signin', target, outcome, source: ctx.source, correlationId: ctx.correlationId, details });
    let attempt;
    try {
      attempt = await this.throttle.begin(typed, ctx.source);
    } catch (err) {
      if (err instanceof ThrottledError) await audit('anonymous', '', 'denied', { name: typed, error: err.code });
      throw err;
    }
    const user = typed === '' ? undefined : await this.users.findBySignInName(typed);
    const given = secret instanceof SecretValue ? secret.reveal() : '';
    const mode = ctx.secondFactor ?? 'ignore';
    const mfa = user && mode !== 'ignore' ? await this.secondFactor.status(user.id) : undefined;
    // FreeIPA's "password followed by OTP": the last six characters are the code.
    const split = mfa?.required && mode === 'append';
    const password = split ? given.slice(0, -TOTP_DIGITS) : given;
    const code = split ? given.slice(-TOTP_DIGITS) : undefined;
    let verdict: { ok: boolean; needsRehash: boolean };
    try {
      verdict = user?.password_hash
        ? await this.deps.passwords.verify(password, user.password_hash)
        : { ok: await this.deps.passwords.verifyDummy(password), needsRehash: false };
    } catch {
      // Empty, over-long or control-character passwords fail identically for every name.
      verdict = { ok: false, needsRehash: false };
    }
    if (split && verdict.ok && (!mfa!.enrolled || password === '')) verdict = { ok: false, needsRehash: false };
    if (!user || !verdict.ok) {
      await attempt.failed();
      await audit('anonymous', user?.id ?? '', 'denied', { name: typed, reason: user ? 'wrong_password' : 'unknown_user', error: 'KH_INVALID_CREDENTIALS' });
      throw new UnauthenticatedError('KH_INVALID_CREDENTIALS', INVALID_USER_CREDENTIALS);
    }
    if (code !== undefined) {
      try {
        await this.secondFactor.verify(user.id, code, Date.now(), { source: ctx.source, correlationId: ctx.correlationId });
      } catch (err) {
        // One answer for the pair, as FreeIPA gives: which half was wrong is not said.
        await attempt.failed();
        if (err instanceof ThrottledError) throw err;
        throw new UnauthenticatedError('KH_INVALID_CREDENTIALS', INVALID_USER_CREDENTIALS);
      }
    }
    await attempt.succeeded();
    if (mfa?.required && mode === 'refuse') {
      await audit(user.id, user.id, 'denied', { reason: 'second_factor_required', error: 'KH_MFA_REQUIRED' });
      throw new UnauthenticatedError('KH_MFA_REQUIRED', 'The user must sign in with a second factor, which this sign-in cannot carry.');
    }
    if (user.account_enabled !== 1) {
      await audit(user.id, user.id, 'denied', { reason: 'disabled', error: 'KH_ACCOUNT_DISABLED' });
      throw new UnauthenticatedError('KH_ACCOUNT_DISABLED', 'The user account is disabled.');
    }
    if (verdict.needsRehash) await this.#rehash(user, password, ctx);
    else if (!ctx.deferSuccessAudit) await audit(user.id, user.id, 'success', { username: user.username, ...(code !== undefined ? { secondFactor: 'totp' } : {}) });
    const result: AuthenticatedUser = {
      kind: 'user', objectId: user.id, userPrincipalName: user.user_principal_name, username: user.username, displayName: user.display_name,
    };
    if (user.given_name !== null) result.givenName = user.given_name;
    if (user.surname !== null) result.surname = user.surname;
    if (user.mail !== null) result.mail = user.mail;
    if (user.force_change_password === 1) result.mustChangePassword = true;
    return result;
  }

  /** The sign-in's audit record and the upgraded hash commit together. */
  async #rehash(user: UserRow, password: string, ctx: AttemptContext): Promise<void> {
    const hash = await this.deps.passwords.hash(password);
    await this.deps.audit.write(
      (replaced: boolean) => ({
        actor: user.id, action: 'user.signin', target: user.id, outcome: 'success', source: ctx.source,
        correlationId: ctx.correlationId, details: { username: user.username, rehashed: replaced },
      }),
      (tx) => tx.users.replacePasswordHash(user.id, user.password_hash!, hash),
    );
  }

  /**
   * A bind-only account an LDIF import brought in (`cn=reader,dc=…`, ldap-entries.ts): its
   * original DN and password, verified against the imported hash under the login throttle (the
   * DN is the account name it counts), the hash replaced by Keyhaven's at the first success as
   * for users. Unknown DNs and wrong passwords get the same error and the same hashing work.
   * Returns the service principal the account binds as (its rights are its role assignments).
   */
  async authenticateLdapAccount(dn: string, password: string, ctx: AttemptContext): Promise<AuthenticatedServicePrincipal> {
    const typed = typeof dn === 'string' ? dn.trim().slice(0, MAX_NAME_LENGTH) : '';
    const repos = this.deps.storage.read;
    const audit = (actor: string, target: string, outcome: 'success' | 'denied', details: AuditDetails) =>
      this.deps.audit.record({ actor, action: 'serviceprincipal.signin', target, outcome, source: ctx.source, correlationId: ctx.correlationId, details });
    let attempt;
    try {
      attempt = await this.throttle.begin(typed, ctx.source);
    } catch (err) {
      if (err instanceof ThrottledError) await audit('anonymous', '', 'denied', { dn: typed, method: 'ldap-password', error: err.code });
      throw err;
    }
    const entry = typed === '' ? undefined : await findEntryByDn(repos, typed);
    const sp = entry?.service_principal_id ? await repos.servicePrincipals.byId(entry.service_principal_id) : undefined;
    let verdict: { ok: boolean; needsRehash: boolean };
    try {
      verdict = entry?.password_hash && sp
        ? await this.deps.passwords.verify(password, entry.password_hash)
        : { ok: await this.deps.passwords.verifyDummy(password), needsRehash: false };
    } catch {
      verdict = { ok: false, needsRehash: false };
    }
    if (!entry || !sp || !verdict.ok) {
      await attempt.failed();
      await audit('anonymous', sp?.id ?? '', 'denied', { dn: typed, method: 'ldap-password', error: 'KH_INVALID_CREDENTIALS' });
      throw new UnauthenticatedError('KH_INVALID_CREDENTIALS', INVALID_USER_CREDENTIALS);
    }
    await attempt.succeeded();
    if (sp.account_enabled !== 1) {
      await audit(sp.id, sp.id, 'denied', { method: 'ldap-password', error: 'KH_CLIENT_DISABLED' });
      throw new UnauthenticatedError('KH_CLIENT_DISABLED', `Application '${sp.app_id}' is disabled.`);
    }
    if (verdict.needsRehash) {
      const hash = await this.deps.passwords.hash(password);
      await this.deps.audit.write(
        (replaced: boolean) => ({
          actor: sp.id, action: 'serviceprincipal.signin', target: sp.id, outcome: 'success', source: ctx.source,
          correlationId: ctx.correlationId, details: { method: 'ldap-password', rehashed: replaced },
        }),
        (tx) => tx.ldapEntries.replacePasswordHash(entry.id, entry.password_hash!, hash),
      );
    } else {
      await audit(sp.id, sp.id, 'success', { method: 'ldap-password' });
    }
    return {
      kind: 'servicePrincipal', objectId: sp.id, appId: sp.app_id, displayName: sp.display_name,
      servicePrincipalType: sp.service_principal_type, credentialKeyId: 'ldap-password',
    };
  }

  async authenticateClientSecret(appId: string, secret: SecretValue, ctx: AttemptContext): Promise<AuthenticatedServicePrincipal> {
    const clientId = typeof appId === 'string' ? appId.trim().toLowerCase() : '';
    const repos = this.deps.storage.read;
    const sp = isObjectId(clientId) ? await repos.servicePrincipals.byAppId(clientId) : undefined;
    const record = async (outcome: 'success' | 'denied', error?: string, keyId?: string) => {
      if (outcome === 'denied' && ctx.deferRefusalAudit) return;
      const details: AuditDetails = { appId: clientId.slice(0, 64) };
      if (error !== undefined) details.error = error;
      if (keyId !== undefined) details.keyId = keyId;
      return this.deps.audit.record({
        actor: outcome === 'success' && sp ? sp.id : 'anonymous', action: 'serviceprincipal.signin', target: sp?.id ?? '',
        outcome, source: ctx.source, correlationId: ctx.correlationId, details,
      });
    };
    if (!sp) {
      await record('denied', 'KH_CLIENT_NOT_FOUND');
      throw new UnauthenticatedError('KH_CLIENT_NOT_FOUND', `Application with identifier '${clientId.slice(0, 64)}' was not found in the directory.`);
    }
    const app = await repos.applications.byAppId(clientId);
    const credentials = app ? await repos.applications.credentials(app.id, 'password') : [];
    const revealed = secret instanceof SecretValue ? secret.reveal() : '';
    const presented = revealed.length <= MAX_SECRET_LENGTH ? revealed : '';
    let matched: (typeof credentials)[number] | undefined;
    for (const c of credentials) {
      // No early exit: every digest is compared, whichever matches.
      if (this.deps.credentials.matches(presented, c.secret_digest ?? '') && matched === undefined) matched = c;
    }
    const now = new Date().toISOString();
    if (!matched || presented === '' || matched.start_date > now) {
      await record('denied', 'KH_INVALID_CLIENT_SECRET');
      throw new UnauthenticatedError('KH_INVALID_CLIENT_SECRET', `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    if (matched.end_date <= now) {
      await record('denied', 'KH_CLIENT_SECRET_EXPIRED', matched.key_id);
      throw new UnauthenticatedError('KH_CLIENT_SECRET_EXPIRED', `The provided client secret keys for app '${clientId}' are expired. Create a new secret for the application.`);
    }
    if (sp.account_enabled !== 1) {
      await record('denied', 'KH_CLIENT_DISABLED', matched.key_id);
      throw new UnauthenticatedError('KH_CLIENT_DISABLED', `Application '${clientId}' is disabled.`);
    }
    if (!ctx.deferSuccessAudit) await record('success', undefined, matched.key_id);
    return {
      kind: 'servicePrincipal', objectId: sp.id, appId: sp.app_id, displayName: sp.display_name,
      servicePrincipalType: sp.service_principal_type, credentialKeyId: matched.key_id,
    };
  }
}
