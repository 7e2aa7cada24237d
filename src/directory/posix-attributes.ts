// POSIX account attributes (RFC 2307 posixAccount / posixGroup, and openssh-lpk's
// sshPublicKey) that LDAP serves so that SSH, SSSD and JupyterHub see one account on every
// machine. uidNumber / gidNumber are allocated automatically from one range shared by users
// and groups, so a user's private group (gid = uid, FreeIPA's and most distributions'
// convention) never takes the number of a real group.
//
// Allocation is max + 1 over both tables inside the write's transaction. Writes are
// serialised already — SQLite's BEGIN IMMEDIATE holds the one write lock, and on PostgreSQL
// every write's audit batch locks the audit chain head first (SELECT … FOR UPDATE) — so two
// creations cannot read the same maximum; the unique indexes still stand behind that, and the
// callers retry a creation that loses a unique-violation race anyway.
import { InvalidInputError } from '../errors.js';
import type { Repos } from '../storage/storage.js';

export const DEFAULT_POSIX_ID_START = 10000;
/** Ids below this are the machines' own system accounts (login.defs UID_MIN on Debian/RHEL). */
export const MIN_POSIX_ID = 1000;
/** 2^31 - 1: signed 32-bit, as PostgreSQL's integer and many NFS/LDAP tools assume. */
export const MAX_POSIX_ID = 2_147_483_647;
/** nobody/nogroup (65534) and (uid_t)-1 in 16 bits (65535) mean something to every kernel. */
const SPECIAL_IDS = new Set([65534, 65535]);

export const DEFAULT_LOGIN_SHELL = '/bin/bash';
export const DEFAULT_HOME_BASE = '/home';

const MAX_SSH_KEYS = 32;
const MAX_SSH_KEY_LENGTH = 16 * 1024;
/** OpenSSH key types (ssh-keygen -t), including FIDO security keys. */
const SSH_KEY_TYPES = new Set([
  'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-dss',
]);

export function checkPosixId(value: unknown, property: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_POSIX_ID || value > MAX_POSIX_ID || SPECIAL_IDS.has(value)) {
    throw new InvalidInputError('KH_POSIX_ID_INVALID', `${property} must be an integer from ${MIN_POSIX_ID} to ${MAX_POSIX_ID}, and not 65534 or 65535.`);
  }
  return value;
}

/** An absolute path without ".." segments, and without ':' or newlines (they break passwd(5) lines). */
export function checkHomeDirectory(value: unknown): string {
  if (typeof value !== 'string' || value.length > 255 || !/^\/[^\p{Cc}:]*$/u.test(value) || value.split('/').includes('..')) {
    throw new InvalidInputError('KH_ATTRIBUTE_INVALID', "homeDirectory must be an absolute path of at most 255 characters, without '..', ':' or control characters.");
  }
  return value;
}

export function checkLoginShell(value: unknown): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._+/-]{1,254}$/.test(value) || value.split('/').includes('..')) {
    throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'loginShell must be an absolute path such as /bin/bash.');
  }
  return value;
}

/**
 * Plain OpenSSH public key lines: "type base64 [comment]". authorized_keys options
 * (command=, from=, …) are refused: these keys are served to every machine's sshd through
 * AuthorizedKeysCommand, and options there would be policy nobody reviews.
 */
export function checkSshPublicKeys(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_SSH_KEYS) {
    throw new InvalidInputError('KH_SSH_KEY_INVALID', `sshPublicKeys must be a list of at most ${MAX_SSH_KEYS} OpenSSH public keys.`);
  }
  return value.map((line, i) => {
    const bad = () => new InvalidInputError('KH_SSH_KEY_INVALID', `sshPublicKeys[${i}] is not an OpenSSH public key line ("ssh-ed25519 AAAA… comment").`);
    if (typeof line !== 'string' || line.length > MAX_SSH_KEY_LENGTH || /\p{Cc}/u.test(line)) throw bad();
    const [type = '', blob = '', ...comment] = line.trim().split(/ +/);
    if (!SSH_KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) throw bad();
    // The key blob starts with its own type name (RFC 4253 §6.6): the two must agree.
    const raw = Buffer.from(blob, 'base64');
    const nameLength = raw.length >= 4 ? raw.readUInt32BE(0) : 0;
    if (nameLength === 0 || raw.subarray(4, 4 + nameLength).toString('latin1') !== type) throw bad();
    return [type, blob, ...comment].join(' ');
  });
}

/** The next free id of the shared range: above every uid and gid already in it. */
export async function allocatePosixId(repos: Repos, start: number): Promise<number> {
  const users = await repos.users.maxPosixId(start);
  const groups = await repos.groups.maxGidNumber(start);
  const next = Math.max(start - 1, users ?? 0, groups ?? 0) + 1;
  if (next > MAX_POSIX_ID) throw new InvalidInputError('KH_POSIX_ID_INVALID', 'The POSIX id range is exhausted.');
  return SPECIAL_IDS.has(next) ? Math.max(...SPECIAL_IDS) + 1 : next;
}
