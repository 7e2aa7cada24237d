// $KEYHAVEN_HOME: local state (master key, TLS files, the SQLite database), mode 0700.
import { accessSync, constants, mkdirSync, statSync, chmodSync } from 'node:fs';
import { StartupError } from '../errors.js';

export function ensureHome(home: string): void {
  let stat;
  try {
    stat = statSync(home);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError('KH_HOME_UNUSABLE', `cannot use home directory ${home}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (stat && !stat.isDirectory()) {
    throw new StartupError('KH_HOME_UNUSABLE', `home ${home} exists but is not a directory`);
  }
  if (!stat) {
    try {
      mkdirSync(home, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StartupError('KH_HOME_UNUSABLE', `cannot create home directory ${home}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  try {
    accessSync(home, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    throw new StartupError('KH_HOME_UNUSABLE', `home directory ${home} is not writable by this user`);
  }
  if (stat && (stat.mode & 0o077) !== 0) {
    // Tighten what we own; other users must not read keys or the database.
    try { chmodSync(home, 0o700); } catch { /* reported by the access check if it matters */ }
  }
}
