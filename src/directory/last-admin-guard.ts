// The directory must never lose its last way in: deleting or disabling the last enabled user
// holding Global Administrator, or removing that last assignment, is refused. Entra guards the
// same way ("you can't remove the last Global Administrator"); without it one mistaken request
// would leave only the master-key holder's `keyhaven admin` commands to recover.
import { ConflictError } from '../errors.js';
import type { Tx } from '../storage/storage.js';
import { GLOBAL_ADMINISTRATOR } from './role-definitions.js';

/** Throws if `userId` is the only enabled user holding Global Administrator for the whole directory. */
export async function assertNotLastGlobalAdmin(tx: Tx, userId: string): Promise<void> {
  const holds = await tx.roleAssignments.find(GLOBAL_ADMINISTRATOR, userId, '/');
  if (!holds) return;
  const user = await tx.users.byId(userId);
  if (user?.account_enabled !== 1) return;
  if ((await tx.roleAssignments.countEnabledUserHolders(GLOBAL_ADMINISTRATOR)) <= 1) {
    throw new ConflictError('KH_LAST_GLOBAL_ADMIN', 'This is the last enabled Global Administrator: assign the role to another user first.');
  }
}
