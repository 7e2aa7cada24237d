// The capabilities over second factors that DirectoryAccess hands out (Graph's
// /users/{id}/authentication/… and a group's requirement), after its check:
//  - a signed-in user over their own methods (/me/authentication/…): list, enrol, confirm,
//    remove — but not their own requirement, which only an administrator sets or clears;
//  - a user writer (User or Global Administrator; a privileged user's only by a Global
//    Administrator, as for a password reset) over anyone's methods and requirement, as Entra's
//    Authentication Administrator manages other users' methods.
// Graph never returns a method's secret (softwareOathAuthenticationMethod.secretKey "Always
// returns null"); Keyhaven returns it once, in the answer to the enrolment that made it.
import { ForbiddenError, InvalidInputError } from '../errors.js';
import type { GroupRow } from '../storage/repos/group-repo.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import type { Actor } from './directory-context.js';
import type { SecondFactor, SecondFactorStatus, SoftwareOathMethod, TotpEnrollment } from './second-factor.js';

/** Graph beta's strongAuthenticationRequirements.perUserMfaState; `enabled` is read as `enforced`. */
export type PerUserMfaState = 'disabled' | 'enforced';

export function parsePerUserMfaState(value: unknown): PerUserMfaState {
  if (value === 'enforced' || value === 'enabled') return 'enforced';
  if (value === 'disabled') return 'disabled';
  throw new InvalidInputError('KH_MFA_REQUIREMENT_INVALID', "perUserMfaState must be 'enforced', 'enabled' or 'disabled'.");
}

export interface UserMfaRequirement {
  /** Whether a requirement names this user. */
  perUserMfaState: PerUserMfaState;
  /** Whether a second factor is required after all (a group's requirement, or an active factor). */
  keyhavenMfaRequired: boolean;
  keyhavenMfaRequiredBy: SecondFactorStatus['reason'] | null;
  keyhavenMfaRegistered: boolean;
}

export class AuthenticationMethods {
  constructor(
    private readonly secondFactor: SecondFactor,
    private readonly actor: Actor,
    private readonly user: UserRow,
    /** Whether the caller administers this user (else it is the user themself). */
    private readonly administering: boolean,
  ) {}

  get userId(): string {
    return this.user.id;
  }

  softwareOathMethods(): Promise<SoftwareOathMethod[]> {
    return this.secondFactor.methods(this.user.id);
  }

  beginSoftwareOath(): Promise<TotpEnrollment> {
    return this.secondFactor.beginTotp(this.actor, { id: this.user.id, userPrincipalName: this.user.user_principal_name });
  }

  activateSoftwareOath(methodId: string, verificationCode: string): Promise<SoftwareOathMethod> {
    return this.secondFactor.confirmTotp(this.actor, this.user.id, methodId, verificationCode);
  }

  removeSoftwareOath(methodId?: string): Promise<void> {
    return this.secondFactor.removeTotp(this.actor, this.user.id, methodId);
  }

  async requirement(): Promise<UserMfaRequirement> {
    const [named, status] = await Promise.all([this.secondFactor.isRequirementSet(this.user.id), this.secondFactor.status(this.user.id)]);
    return {
      perUserMfaState: named ? 'enforced' : 'disabled',
      keyhavenMfaRequired: status.required,
      keyhavenMfaRequiredBy: status.reason ?? null,
      keyhavenMfaRegistered: status.enrolled,
    };
  }

  async setRequirement(state: unknown): Promise<void> {
    const parsed = parsePerUserMfaState(state);
    if (!this.administering) throw new ForbiddenError('KH_FORBIDDEN', 'Insufficient privileges to complete the operation. Only an administrator sets whether a user must use multi-factor authentication.');
    await this.secondFactor.setRequirement(this.actor, { id: this.user.id, type: 'user' }, parsed === 'enforced');
  }
}

/** A group's requirement: every transitive member must use a second factor (Keyhaven's extension, in the shape of the user's). */
export class GroupMfaRequirement {
  constructor(
    private readonly secondFactor: SecondFactor,
    private readonly actor: Actor,
    private readonly group: GroupRow,
  ) {}

  async get(): Promise<{ perUserMfaState: PerUserMfaState }> {
    return { perUserMfaState: (await this.secondFactor.isRequirementSet(this.group.id)) ? 'enforced' : 'disabled' };
  }

  async set(state: unknown): Promise<void> {
    const parsed = parsePerUserMfaState(state);
    await this.secondFactor.setRequirement(this.actor, { id: this.group.id, type: 'group' }, parsed === 'enforced');
  }
}
