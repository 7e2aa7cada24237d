// Setting a user's password: an administrator's reset (Graph: PATCH passwordProfile, or
// `keyhaven admin reset-password`) and the user's own change (Graph: POST
// /me/changePassword with currentPassword and newPassword). Both go through the password
// policy, and hash before the write. The user's own change proves the current password first,
// through the same login throttle as sign-in, so it is no side door for guessing.
import { ConflictError, ForbiddenError, InvalidInputError } from '../errors.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import { auditEvent, notFound, nowIso, type Actor, type DirectoryDeps } from './directory-context.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordPolicy } from './password-policy.js';

export class UserPasswords {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly policy: PasswordPolicy,
    private readonly throttle: LoginThrottle,
  ) {}

  /** An administrator sets a new password (no current password needed). */
  async reset(actor: Actor, user: UserRow, password: string, forceChange = false): Promise<void> {
    this.policy.check(password, contextOf(user));
    const hash = await this.deps.passwords.hash(password);
    await this.deps.audit.write(auditEvent(actor, 'user.password.reset', user.id, { username: user.username }), async (tx) => {
      const fresh = await tx.users.byId(user.id);
      if (!fresh) throw notFound('KH_USER_NOT_FOUND', user.id);
      const now = nowIso();
      await tx.users.updateVersioned(fresh.id, fresh.version, { password_hash: hash, password_changed_at: now, updated_at: now, force_change_password: forceChange ? 1 : 0 });
    });
  }

  /**
   * The signed-in user changes their own password. The new one is checked against the policy
   * first (that reveals nothing about the current one), then the current one is verified under
   * the throttle; a wrong current password counts as a failed sign-in of this account.
   */
  async changeOwn(userId: string, currentPassword: string, newPassword: string, source: string): Promise<void> {
    const user = await this.deps.storage.read.users.byId(userId);
    if (!user) throw notFound('KH_USER_NOT_FOUND', userId);
    if (typeof currentPassword !== 'string' || typeof newPassword !== 'string') {
      throw new InvalidInputError('KH_PASSWORD_INVALID', 'currentPassword and newPassword must be strings.');
    }
    if (currentPassword === newPassword) {
      throw new InvalidInputError('KH_PASSWORD_REUSED', 'The new password must differ from the current one.');
    }
    this.policy.check(newPassword, contextOf(user));
    const attempt = await this.throttle.begin(user.user_principal_name, source);
    let ok = false;
    try {
      ok = user.password_hash === null
        ? await this.deps.passwords.verifyDummy(currentPassword)
        : (await this.deps.passwords.verify(currentPassword, user.password_hash)).ok;
    } catch {
      ok = false; // an unusable current password (too long, control characters) is simply wrong
    }
    const actor: Actor = { id: user.id, source };
    if (!ok) {
      await attempt.failed();
      await this.deps.audit.record({ ...auditEvent(actor, 'user.password.change', user.id), outcome: 'denied', details: { error: 'KH_CURRENT_PASSWORD_WRONG' } });
      throw new ForbiddenError('KH_CURRENT_PASSWORD_WRONG', 'The current password is incorrect.');
    }
    await attempt.succeeded();
    const hash = await this.deps.passwords.hash(newPassword);
    await this.deps.audit.write(auditEvent(actor, 'user.password.change', user.id), async (tx) => {
      const fresh = await tx.users.byId(user.id);
      if (!fresh) throw notFound('KH_USER_NOT_FOUND', user.id);
      // The hash we verified against must still be the stored one: a reset in between wins.
      if (fresh.password_hash !== user.password_hash) {
        throw new ConflictError('KH_DIRECTORY_CONFLICT', 'The password was changed by another request. Sign in again and retry.');
      }
      const now = nowIso();
      await tx.users.updateVersioned(fresh.id, fresh.version, { password_hash: hash, password_changed_at: now, updated_at: now, force_change_password: 0 });
    });
  }
}

function contextOf(user: UserRow): { username: string; displayName: string; email: string } {
  return { username: user.username, displayName: user.display_name, email: user.user_principal_name };
}
