// The names directory objects are known by, and their rules. Every check returns the
// normalised value or throws InvalidInputError with a message safe to show.
//
//  - userPrincipalName: Entra's rules ("User principal name formatting requirements"): a
//    local part of letters, digits and ' . - _ ! # ^ ~, not starting or ending with a period
//    and without "..", at most 64 characters; '@'; a DNS domain; at most 113 in all.
//  - the short login name LDAP serves as uid / sAMAccountName: POSIX-safe as useradd(8) and
//    systemd's "User/Group Name Syntax" recommend, [a-z_][a-z0-9._-]{0,31}. Names of system
//    accounts are refused, so that nothing a directory admin creates can become `root` on a
//    machine through NSS (SSSD filters root by default; other NSS modules may not).
//  - group mailNickname, served as the group's cn / sAMAccountName: unique ignoring case; a
//    name sudoers(5), polkit's adminIdentities or a distribution gives root-equivalent meaning
//    (sudo, wheel, admin, docker, …) is refused, so that no group admin can hand out root on
//    every machine (SSSD resolves `%sudo` in sudoers to whatever group the directory names
//    so). Which names are refused is the `reservedGroupNames` setting; its default is
//    DEFAULT_RESERVED_GROUP_NAMES. Common names such as `staff` are not on it: Debian's
//    `staff` only owns /usr/local, and directories moving to Keyhaven use it for people.
import { InvalidInputError } from '../errors.js';

const UPN_LOCAL = /^[A-Za-z0-9'_!#^~-]+(?:\.[A-Za-z0-9'_!#^~-]+)*$/;
const DNS_DOMAIN = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const SHORT_NAME = /^[a-z_][a-z0-9._-]{0,31}$/;
const GROUP_NICKNAME = /^[A-Za-z_][A-Za-z0-9._-]{0,63}$/;
const MAIL = /^[^\s@"<>()[\]\\,;:]{1,64}@[A-Za-z0-9.-]{1,253}$/;

const RESERVED_USER_NAMES = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'nobody', 'sshd', 'operator', 'halt', 'shutdown', 'adm', 'messagebus',
]);

/**
 * Group names that grant root, or root's data, by name on Linux machines: sudoers(5)
 * (`%sudo` on Debian/Ubuntu, `%wheel` on RHEL, `%admin` on older Ubuntu), polkit's
 * adminIdentities (unix-group:wheel / sudo / admin), and groups whose members own the
 * machine through a device or daemon (disk, kmem, shadow, docker, lxd, libvirt, kvm,
 * systemd-journal); plus the system groups every distribution creates. `systemd-*` is a
 * prefix: a trailing `*` matches any name that starts with what comes before it.
 */
export const DEFAULT_RESERVED_GROUP_NAMES: readonly string[] = Object.freeze([
  'root', 'wheel', 'sudo', 'admin', 'adm', 'shadow', 'disk', 'kmem', 'docker', 'lxd', 'libvirt', 'kvm',
  'systemd-*', 'nogroup', 'nobody', 'sshd', 'daemon', 'bin', 'sys', 'tty',
]);

/** The setting that lists them, as an error message names it. */
export const RESERVED_GROUP_NAMES_SETTING = 'reservedGroupNames (KEYHAVEN_RESERVED_GROUP_NAMES)';

/** The reserved group names: exact names and `prefix*` patterns, compared ignoring case. */
export class ReservedGroupNames {
  readonly #exact = new Set<string>();
  readonly #prefixes: string[] = [];

  constructor(patterns: readonly string[] = DEFAULT_RESERVED_GROUP_NAMES) {
    for (const raw of patterns) {
      const p = raw.trim().toLowerCase();
      if (p === '') continue;
      if (p.endsWith('*')) this.#prefixes.push(p.slice(0, -1));
      else this.#exact.add(p);
    }
  }

  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.#exact.has(lower) || this.#prefixes.some((p) => lower.startsWith(p));
  }
}

export const DEFAULT_RESERVED_GROUPS = new ReservedGroupNames();

const MAX_UPN = 113;
const MAX_DISPLAY_NAME = 256;
const MAX_TEXT = 1024;

function invalid(code: string, message: string): InvalidInputError {
  return new InvalidInputError(code, message);
}

export function checkUserPrincipalName(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_UPN) {
    throw invalid('KH_UPN_INVALID', `userPrincipalName must be text of the form name@domain, at most ${MAX_UPN} characters.`);
  }
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || local.length > 64 || !UPN_LOCAL.test(local) || !DNS_DOMAIN.test(domain)) {
    throw invalid('KH_UPN_INVALID', "userPrincipalName must be name@domain: the name of letters, digits and ' . - _ ! # ^ ~ (no leading, trailing or double period), the domain a DNS name.");
  }
  return value;
}

/** The short name, lower-cased; `from` says which property it came from (for the message). */
export function checkShortName(value: unknown, from = 'onPremisesSamAccountName'): string {
  const name = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof name !== 'string' || !SHORT_NAME.test(name)) {
    throw invalid('KH_USER_NAME_INVALID', `${from} must be 1 to 32 characters: a letter or underscore, then letters, digits, '.', '_' or '-'.`);
  }
  if (RESERVED_USER_NAMES.has(name) || name.startsWith('systemd-')) {
    throw invalid('KH_USER_NAME_RESERVED', `'${name}' is the name of a system account and cannot be used.`);
  }
  return name;
}

/** The short name a new user gets when none is given: the UPN's local part, if POSIX-safe. */
export function shortNameFromUpn(upn: string): string {
  return checkShortName(upn.slice(0, upn.lastIndexOf('@')), 'the userPrincipalName before @ (give mailNickname to choose another)');
}

export function checkGroupNickname(value: unknown, reserved: ReservedGroupNames = DEFAULT_RESERVED_GROUPS): string {
  if (typeof value !== 'string' || !GROUP_NICKNAME.test(value)) {
    throw invalid('KH_GROUP_NAME_INVALID', "mailNickname must be 1 to 64 characters: a letter or underscore, then letters, digits, '.', '_' or '-'.");
  }
  if (reserved.has(value)) {
    throw invalid('KH_GROUP_NAME_RESERVED', `'${value}' is a reserved group name: on Linux machines it can grant administrative rights (sudoers, polkit) by name. The setting ${RESERVED_GROUP_NAMES_SETTING} lists the reserved names; remove it there to admit it.`);
  }
  return value;
}

/**
 * A user's short name while user private groups are on: it is also the name of the user's
 * private group (private-groups.ts), so a reserved group name is refused for users too.
 */
export function checkPrivateGroupName(username: string, reserved: ReservedGroupNames): string {
  if (reserved.has(username)) {
    throw invalid('KH_USER_NAME_RESERVED', `'${username}' is a reserved group name and would name this user's private group, which on Linux machines can grant administrative rights by name. Choose another name, or change ${RESERVED_GROUP_NAMES_SETTING} or userPrivateGroups (KEYHAVEN_USER_PRIVATE_GROUPS).`);
  }
  return username;
}

/** Graph's displayName: required on users, groups, applications; up to 256 characters. */
export function checkDisplayName(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0 || [...value].length > MAX_DISPLAY_NAME || /\p{Cc}/u.test(value)) {
    throw invalid('KH_DISPLAY_NAME_INVALID', `displayName must be 1 to ${MAX_DISPLAY_NAME} characters without control characters.`);
  }
  return value;
}

/** An optional text property (givenName, surname, description): null clears it. */
export function checkOptionalText(value: unknown, property: string, max = MAX_TEXT): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || [...value].length > max || /\p{Cc}/u.test(value.replace(/[\n\t]/g, ' '))) {
    throw invalid('KH_ATTRIBUTE_INVALID', `${property} must be text of at most ${max} characters without control characters.`);
  }
  return value.length === 0 ? null : value;
}

export function checkMail(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' || value.length > 254 || !MAIL.test(value)) {
    throw invalid('KH_ATTRIBUTE_INVALID', 'mail must be an e-mail address (name@domain).');
  }
  return value;
}

export function checkBoolean(value: unknown, property: string): boolean {
  if (typeof value !== 'boolean') throw invalid('KH_ATTRIBUTE_INVALID', `${property} must be true or false.`);
  return value;
}
