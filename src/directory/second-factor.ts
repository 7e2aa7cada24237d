// A user's second factor: TOTP (RFC 6238), the software OATH method Graph calls
// softwareOathAuthenticationMethod. This is the core the faces call; it holds no HTTP.
//
//  - Who must use one (requiredFor): a user named by a requirement (Entra's per-user MFA state
//    "enforced"), a transitive member of a group named by one (as a Conditional Access policy
//    naming groups), and — with `requireWhenEnrolled`, the default — anyone who has an active
//    factor: a factor a password alone could bypass protects nothing.
//  - Enrolment: begin makes a 20-byte secret server-side (RFC 4226 §4 R6) and stores it sealed
//    by the envelope encryption (src/crypto/envelope.ts) in a `pending` method; confirm needs a
//    valid code from it before the method is `active`, so a mistyped or unscanned secret never
//    locks its user out. An unconfirmed enrolment expires.
//  - Verification: a code is accepted within ±1 step (RFC 6238 §5.2) and once only: its step
//    must be later than every step accepted before (a compare-and-set in storage, so replicas
//    agree). Guesses go through the directory's login throttle, keyed by the user's id under
//    `totp:` (six digits are 10^6 guesses; the throttle's growing lock makes that years).
//  - Audit: enrol, confirm, remove, requirement changes and every refused code, never a code
//    or the secret. A successful verification is recorded by the caller's sign-in record
//    (amr `otp`), so a sign-in stays one record.
import { randomUUID } from 'node:crypto';
import type { AuditDetails, AuditLog } from '../audit/audit-log.js';
import { SecretValue } from '../crypto/secret-value.js';
import { ConflictError, InternalError, InvalidInputError, NotFoundError, ThrottledError, UnauthenticatedError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { UserTotpRow } from '../storage/repos/mfa-repo.js';
import { auditEvent, nowIso, type Actor } from './directory-context.js';
import type { LoginThrottle } from './login-throttle.js';
import { base32Secret, matchStep, newTotpSecret, normalizeCode, otpauthUri } from './totp-codes.js';

/** What seals the secrets: the server's Envelope (encrypt/decrypt with a context bound in). */
export interface SecretSealer {
  encrypt(purpose: string, plaintext: Buffer | string, context: string): Promise<string>;
  decrypt(ciphertext: string, context: string): Promise<Buffer>;
}

export interface SecondFactorDeps {
  storage: Storage;
  audit: AuditLog;
  throttle: LoginThrottle;
  /** Absent where no master key is at hand (directory tests): enrolment and verification then fail. */
  sealer?: SecretSealer | undefined;
}

export interface SecondFactorOptions {
  /** The `issuer` authenticator apps show beside the account (`mfaTotpIssuer`). */
  issuer?: string;
  /** How long a begun enrolment may wait for its confirming code (`mfaEnrollmentTimeoutSeconds`). */
  enrollmentTimeoutSeconds?: number;
  /** Whether an active factor makes its user require it (`mfaRequiredWhenEnrolled`). */
  requireWhenEnrolled?: boolean;
  /** Epoch ms; the verifier's and the enrolment expiry's clock. */
  clock?: () => number;
}

/** Why a second factor is required; undefined when it is not. */
export type RequirementReason = 'user' | 'group' | 'enrolled';

export interface SecondFactorStatus {
  required: boolean;
  reason?: RequirementReason;
  /** Whether the user has an active factor (a sign-in page asks for its code; without one, enrolment). */
  enrolled: boolean;
}

/** A software OATH method as Graph shows it (the secret never: Graph's `secretKey` is always null). */
export interface SoftwareOathMethod {
  id: string;
  /** Keyhaven: `pending` until confirmed with a code, then `active`. */
  state: 'pending' | 'active';
  createdDateTime: string;
  activatedDateTime: string | null;
}

/** A begun enrolment: shown once to the enrolling user, never stored in the clear. */
export interface TotpEnrollment {
  methodId: string;
  /** Base32 secret, for typing into an app by hand. */
  secret: SecretValue;
  /** `otpauth://totp/…`, for the QR code. */
  otpauthUri: SecretValue;
  expiresDateTime: string;
}

/** What a verified second factor adds to a token's `amr` (RFC 8176 §2: `otp`, `mfa`). */
export interface SecondFactorResult {
  method: 'totp';
  amr: readonly ['otp', 'mfa'];
}

export interface VerifyContext {
  /** The client's IP address (the throttle's per-source guard). */
  source: string;
  correlationId?: string | undefined;
}

const PURPOSE = 'user-mfa';
const sealContext = (userId: string, methodId: string) => `user-totp|${userId}|${methodId}`;
/** A user in more groups than this is checked against the first ones only: far past any real directory. */
const MAX_GROUPS_CHECKED = 100_000;

export const INVALID_CODE = 'The verification code is not valid. Enter the current code from your authenticator app.';

export class SecondFactor {
  readonly #deps: SecondFactorDeps;
  readonly #issuer: string;
  readonly #enrollmentMs: number;
  readonly #requireWhenEnrolled: boolean;
  readonly #clock: () => number;

  constructor(deps: SecondFactorDeps, options: SecondFactorOptions = {}) {
    this.#deps = deps;
    this.#issuer = options.issuer ?? 'Keyhaven';
    this.#enrollmentMs = 1000 * (options.enrollmentTimeoutSeconds ?? 600);
    this.#requireWhenEnrolled = options.requireWhenEnrolled ?? true;
    this.#clock = options.clock ?? Date.now;
  }

  /** Whether `userId` must present a second factor to sign in (the password grant refuses such users). */
  async requiredFor(userId: string): Promise<boolean> {
    return (await this.status(userId)).required;
  }

  /** Whether a second factor is required, why, and whether the user has one to present. */
  async status(userId: string): Promise<SecondFactorStatus> {
    const repos = this.#deps.storage.read;
    const id = typeof userId === 'string' ? userId.toLowerCase() : '';
    const totp = await repos.mfa.totpOf(id);
    const enrolled = totp?.state === 'active';
    if ((await repos.mfa.requiredAmong([id])).length > 0) return { required: true, reason: 'user', enrolled };
    const groups = await repos.groupMembers.transitiveGroupsOf(id, { limit: MAX_GROUPS_CHECKED });
    if ((await repos.mfa.requiredAmong(groups)).length > 0) return { required: true, reason: 'group', enrolled };
    if (enrolled && this.#requireWhenEnrolled) return { required: true, reason: 'enrolled', enrolled };
    return { required: false, enrolled };
  }

  /**
   * Checks `code` against the user's active TOTP at `nowMs`. Resolves with what it adds to
   * `amr`; throws UnauthenticatedError KH_MFA_CODE_INVALID (wrong, malformed, or no active
   * factor — one answer), KH_MFA_CODE_REUSED (a code of a step already used), or ThrottledError
   * KH_ACCOUNT_LOCKED / KH_SOURCE_THROTTLED. Every refusal is audited.
   */
  async verify(userId: string, code: string, nowMs: number, ctx: VerifyContext): Promise<SecondFactorResult> {
    const id = typeof userId === 'string' ? userId.toLowerCase() : '';
    const refuse = async (error: string, reason: string) =>
      this.#deps.audit.record({ actor: id || 'anonymous', action: 'user.mfa.verify', target: id, outcome: 'denied', source: ctx.source, correlationId: ctx.correlationId, details: { method: 'totp', reason, error } });
    let attempt;
    try {
      attempt = await this.#deps.throttle.begin(`totp:${id}`, ctx.source);
    } catch (err) {
      if (err instanceof ThrottledError) await refuse(err.code, 'throttled');
      throw err;
    }
    const row = await this.#deps.storage.read.mfa.totpOf(id);
    const active = row?.state === 'active' ? row : undefined;
    const step = active ? matchStep(await this.#open(active), code, nowMs) : undefined;
    if (!active || step === undefined) {
      await attempt.failed();
      await refuse('KH_MFA_CODE_INVALID', active ? 'wrong_code' : 'not_enrolled');
      throw new UnauthenticatedError('KH_MFA_CODE_INVALID', INVALID_CODE);
    }
    if (!(await this.#deps.storage.read.mfa.useStep(active.id, step))) {
      await attempt.failed();
      await refuse('KH_MFA_CODE_REUSED', 'replayed_code');
      throw new UnauthenticatedError('KH_MFA_CODE_REUSED', 'This verification code has already been used. Wait for the next code from your authenticator app.');
    }
    await attempt.succeeded();
    return { method: 'totp', amr: ['otp', 'mfa'] };
  }

  /** The user's software OATH methods (at most one). */
  async methods(userId: string): Promise<SoftwareOathMethod[]> {
    const row = await this.#deps.storage.read.mfa.totpOf(userId.toLowerCase());
    return row ? [toMethod(row)] : [];
  }

  /**
   * Begins TOTP enrolment for `user`: a fresh secret in a pending method (replacing an
   * unconfirmed one). Throws ConflictError KH_MFA_ALREADY_ENROLLED when an active one exists.
   */
  async beginTotp(actor: Actor, user: { id: string; userPrincipalName: string }): Promise<TotpEnrollment> {
    const sealer = this.#sealer();
    const methodId = randomUUID();
    const key = newTotpSecret();
    const sealed = await sealer.encrypt(PURPOSE, key, sealContext(user.id, methodId));
    const createdAt = new Date(this.#clock());
    await this.#deps.audit.write(auditEvent(actor, 'user.mfa.enroll', user.id, { method: 'totp', methodId }), async (tx) => {
      const existing = await tx.mfa.totpOf(user.id);
      if (existing?.state === 'active') {
        throw new ConflictError('KH_MFA_ALREADY_ENROLLED', 'The user already has an authenticator app registered. Remove it before registering another.');
      }
      if (existing) await tx.mfa.deleteTotp(user.id, existing.id);
      await tx.mfa.insertTotp({ id: methodId, user_id: user.id, secret: sealed, state: 'pending', created_at: createdAt.toISOString(), activated_at: null, last_step: null });
    });
    return {
      methodId,
      secret: new SecretValue(base32Secret(key)),
      otpauthUri: new SecretValue(otpauthUri(key, this.#issuer, user.userPrincipalName)),
      expiresDateTime: new Date(createdAt.getTime() + this.#enrollmentMs).toISOString(),
    };
  }

  /**
   * Confirms a pending enrolment with a code from the new secret; the method is active from
   * then on, and that code's step counts as used. Throws NotFoundError KH_MFA_METHOD_NOT_FOUND,
   * InvalidInputError KH_MFA_ENROLLMENT_EXPIRED, ConflictError KH_MFA_ALREADY_ENROLLED (confirmed
   * already), UnauthenticatedError KH_MFA_CODE_INVALID, or ThrottledError.
   */
  async confirmTotp(actor: Actor, userId: string, methodId: string, code: string, nowMs: number = this.#clock()): Promise<SoftwareOathMethod> {
    const source = actor.source ?? '';
    const details: AuditDetails = { method: 'totp', methodId: String(methodId).slice(0, 64) };
    const refuse = async (error: string) =>
      this.#deps.audit.record({ ...auditEvent(actor, 'user.mfa.confirm', userId, { ...details, error }), outcome: 'denied' });
    const row = await this.#deps.storage.read.mfa.totpOf(userId);
    if (!row || row.id !== String(methodId).toLowerCase()) {
      throw new NotFoundError('KH_MFA_METHOD_NOT_FOUND', `The user has no authentication method '${String(methodId).slice(0, 64)}'.`);
    }
    if (row.state === 'active') throw new ConflictError('KH_MFA_ALREADY_ENROLLED', 'This authenticator app is already confirmed.');
    if (Date.parse(row.created_at) + this.#enrollmentMs < nowMs) {
      await refuse('KH_MFA_ENROLLMENT_EXPIRED');
      throw new InvalidInputError('KH_MFA_ENROLLMENT_EXPIRED', 'The registration has expired. Begin it again and scan the new code.');
    }
    let attempt;
    try {
      attempt = await this.#deps.throttle.begin(`totp:${userId}`, source);
    } catch (err) {
      if (err instanceof ThrottledError) await refuse(err.code);
      throw err;
    }
    const step = normalizeCode(code) === undefined ? undefined : matchStep(await this.#open(row), code, nowMs);
    if (step === undefined) {
      await attempt.failed();
      await refuse('KH_MFA_CODE_INVALID');
      throw new UnauthenticatedError('KH_MFA_CODE_INVALID', INVALID_CODE);
    }
    const at = new Date(nowMs).toISOString();
    await this.#deps.audit.write(auditEvent(actor, 'user.mfa.confirm', userId, details), async (tx) => {
      if (!(await tx.mfa.activateTotp(row.id, step, at))) throw new ConflictError('KH_MFA_ALREADY_ENROLLED', 'This authenticator app is already confirmed.');
    });
    await attempt.succeeded();
    return { ...toMethod(row), state: 'active', activatedDateTime: at };
  }

  /**
   * A begun, unexpired enrolment shown again — to the same user, within the sign-in that began
   * it (a mistyped first code must not force a new secret after the old one was scanned).
   * Undefined when the method is not that user's pending one any more.
   */
  async pendingTotp(user: { id: string; userPrincipalName: string }, methodId: string, nowMs: number = this.#clock()): Promise<TotpEnrollment | undefined> {
    const row = await this.#deps.storage.read.mfa.totpOf(user.id);
    if (!row || row.state !== 'pending' || row.id !== String(methodId).toLowerCase()) return undefined;
    const created = Date.parse(row.created_at);
    if (created + this.#enrollmentMs < nowMs) return undefined;
    const key = await this.#open(row);
    return {
      methodId: row.id,
      secret: new SecretValue(base32Secret(key)),
      otpauthUri: new SecretValue(otpauthUri(key, this.#issuer, user.userPrincipalName)),
      expiresDateTime: new Date(created + this.#enrollmentMs).toISOString(),
    };
  }

  /** Removes the user's method (by id, or whichever they have). Throws NotFoundError KH_MFA_METHOD_NOT_FOUND. */
  async removeTotp(actor: Actor, userId: string, methodId?: string): Promise<void> {
    const id = methodId?.toLowerCase();
    await this.#deps.audit.write(auditEvent(actor, 'user.mfa.remove', userId, { method: 'totp', ...(id ? { methodId: id.slice(0, 64) } : {}) }), async (tx) => {
      if (!(await tx.mfa.deleteTotp(userId, id))) {
        throw new NotFoundError('KH_MFA_METHOD_NOT_FOUND', `The user has no authentication method '${(methodId ?? 'softwareOath').slice(0, 64)}'.`);
      }
    });
  }

  /** Whether a requirement names this user or group itself. */
  async isRequirementSet(principalId: string): Promise<boolean> {
    return (await this.#deps.storage.read.mfa.requiredAmong([principalId.toLowerCase()])).length > 0;
  }

  /** Sets or clears the requirement naming a user or group (idempotent). */
  async setRequirement(actor: Actor, principal: { id: string; type: 'user' | 'group' }, required: boolean): Promise<void> {
    const action = required ? 'mfa.requirement.set' : 'mfa.requirement.remove';
    await this.#deps.audit.write(auditEvent(actor, action, principal.id, { principalType: principal.type }), async (tx) => {
      if (required) await tx.mfa.setRequirement(principal.id, principal.type, nowIso());
      else await tx.mfa.removeRequirement(principal.id);
    });
  }

  /** Every requirement, for the policy's overview. */
  async requirements(): Promise<{ principalId: string; principalType: 'user' | 'group'; createdDateTime: string }[]> {
    return (await this.#deps.storage.read.mfa.requirements()).map((r) => ({ principalId: r.principal_id, principalType: r.principal_type, createdDateTime: r.created_at }));
  }

  async #open(row: UserTotpRow): Promise<Buffer> {
    return this.#sealer().decrypt(row.secret, sealContext(row.user_id, row.id));
  }

  #sealer(): SecretSealer {
    if (!this.#deps.sealer) throw new InternalError('KH_MFA_UNAVAILABLE', 'second-factor secrets cannot be sealed: no envelope was configured');
    return this.#deps.sealer;
  }
}

function toMethod(row: UserTotpRow): SoftwareOathMethod {
  return { id: row.id, state: row.state, createdDateTime: row.created_at, activatedDateTime: row.activated_at };
}
