// The bootstrap administrator `admin`, created on first start. Its password comes from
// configuration (KEYHAVEN_ADMIN_PASSWORD / _FILE) or is generated; a generated one is shown
// once on the terminal — never through the structured log — and kept in
// $KEYHAVEN_HOME/admin-password (0600). A later start never changes it silently. The admin
// holds Global Administrator; every start makes sure it still does (idempotently), so a
// database from before directory roles existed gets the assignment too.
//
// The admin is a directory administrator, not an operating-system login: it is made without
// uidNumber, gidNumber, homeDirectory or loginShell, so LDAP serves it without posixAccount
// and SSSD/nslcd clients (which look users up by objectClass=posixAccount) never see it as a
// login account on their machines. `keyhaven ad user update --id admin --uid-number …` (or
// any POSIX attribute) makes it one deliberately. Its userPrincipalName is
// admin@{directoryDomain}, like every other user's. An admin made by an earlier version
// keeps the attributes it has: a start never rewrites an existing account.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import { writeFileAtomic } from '../crypto/master-key.js';
import { NotFoundError } from '../errors.js';
import type { DirectoryDeps } from './directory-context.js';
import type { Tx } from '../storage/storage.js';
import { GLOBAL_ADMINISTRATOR } from './role-definitions.js';

export const ADMIN_USERNAME = 'admin';

/** What making the bootstrap admin needs (the server's CoreServices provides it). */
export interface BootstrapDeps extends Pick<DirectoryDeps, 'storage' | 'audit' | 'passwords'> {
  config: { adminPassword?: string | undefined; home: string; directoryDomain: string };
}

export interface BootstrapResult {
  created: boolean;
  /** Set only when the password was generated now; the caller shows it once. */
  generatedPassword?: string;
  passwordFile?: string;
  /** A configured password that differs from the current one (not applied). */
  configuredPasswordIgnored?: boolean;
}

export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export async function ensureBootstrapAdmin(core: BootstrapDeps): Promise<BootstrapResult> {
  const existing = await core.storage.read.users.byUsername(ADMIN_USERNAME);
  const configured = core.config.adminPassword;
  if (existing) {
    await ensureGlobalAdministrator(core, existing.id);
    if (configured === undefined || existing.password_hash === null) return { created: false };
    const { ok } = await core.passwords.verify(configured, existing.password_hash);
    return { created: false, configuredPasswordIgnored: !ok };
  }
  const password = configured ?? generatePassword();
  const hash = await core.passwords.hash(password);
  const passwordFile = join(core.config.home, 'admin-password');
  if (configured === undefined) writeFileAtomic(passwordFile, password + '\n', 0o600);
  const id = randomUUID();
  const now = new Date().toISOString();
  try {
    await core.audit.write({ actor: 'system', action: 'user.create', target: id, details: { username: ADMIN_USERNAME, bootstrap: true } }, async (tx) => {
      await tx.users.insert({
        id,
        username: ADMIN_USERNAME,
        user_principal_name: `${ADMIN_USERNAME}@${core.config.directoryDomain}`,
        display_name: 'Keyhaven administrator',
        password_hash: hash,
        account_enabled: 1,
        uid_number: null,
        gid_number: null,
        home_directory: null,
        login_shell: null,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      });
      await assignGlobalAdministrator(tx, id);
    });
  } catch (err) {
    if (configured === undefined) {
      try { unlinkSync(passwordFile); } catch { /* nothing to undo */ }
    }
    // Another replica created it first: that one's password stands.
    const winner = await core.storage.read.users.byUsername(ADMIN_USERNAME);
    if (winner) {
      await ensureGlobalAdministrator(core, winner.id);
      return { created: false };
    }
    throw err;
  }
  return configured === undefined ? { created: true, generatedPassword: password, passwordFile } : { created: true };
}

/** `keyhaven admin reset-password`: sets a user's password, audited. */
export async function resetPassword(core: BootstrapDeps, username: string, password: string): Promise<void> {
  const user = await core.storage.read.users.byUsername(username);
  if (!user) throw new NotFoundError('KH_USER_NOT_FOUND', `user ${username} does not exist`);
  const hash = await core.passwords.hash(password);
  await core.audit.write({ actor: 'system', action: 'user.password.reset', target: user.id, details: { username: user.username } }, (tx) =>
    tx.users.updateVersioned(user.id, user.version, { password_hash: hash, password_changed_at: new Date().toISOString(), updated_at: new Date().toISOString() }),
  );
}

/** Assigns Global Administrator at `/` to the user unless it already holds it (audited when it does). */
export async function ensureGlobalAdministrator(core: BootstrapDeps, userId: string): Promise<void> {
  if (await core.storage.read.roleAssignments.find(GLOBAL_ADMINISTRATOR, userId, '/')) return;
  try {
    await core.audit.write({ actor: 'system', action: 'role.assign', target: userId, details: { roleDefinitionId: GLOBAL_ADMINISTRATOR, directoryScopeId: '/', bootstrap: true } }, (tx) =>
      assignGlobalAdministrator(tx, userId),
    );
  } catch (err) {
    // Another replica assigned it at the same moment: the unique index kept one.
    if (!(await core.storage.read.roleAssignments.find(GLOBAL_ADMINISTRATOR, userId, '/'))) throw err;
  }
}

async function assignGlobalAdministrator(tx: Tx, userId: string): Promise<void> {
  if (await tx.roleAssignments.find(GLOBAL_ADMINISTRATOR, userId, '/')) return;
  await tx.roleAssignments.insert({
    id: randomUUID(),
    role_definition_id: GLOBAL_ADMINISTRATOR,
    principal_id: userId,
    directory_scope_id: '/',
    created_at: new Date().toISOString(),
  });
}
