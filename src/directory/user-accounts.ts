// Users: create, read, list, update, delete — Graph's /users with Keyhaven's POSIX attributes.
// Writes run through audit.write so each and its audit record commit together; the slow part
// of a creation (hashing the password) happens before. Passwords themselves live in
// user-passwords.ts and authentication.ts.
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { PasswordPolicy } from './password-policy.js';
import type { Repos, Tx } from '../storage/storage.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import {
  auditEvent, notFound, nowIso, retryUniqueRace, taken,
  type Actor, type DirectoryDeps, type ResolvedDirectoryOptions,
} from './directory-context.js';
import { checkExtraAttributes, type ExtraAttributes } from './extra-attributes.js';
import { toGraphUser, type GraphUser } from './graph-objects.js';
import { parseFilter, type FilterFields } from './odata-filter.js';
import { decodeCreationToken, encodeCreationToken, isObjectId, parseSelect, parseTop, project, type ListOptions, type ListResult } from './odata-query.js';
import {
  allocatePosixId, checkHomeDirectory, checkLoginShell, checkPosixId, checkSshPublicKeys,
} from './posix-attributes.js';
import {
  checkBoolean, checkDisplayName, checkMail, checkOptionalText, checkPrivateGroupName, checkShortName, checkUserPrincipalName, shortNameFromUpn,
} from './principal-names.js';
import { assertNotLastGlobalAdmin } from './last-admin-guard.js';

export interface UserPosixInput {
  uidNumber?: number;
  gidNumber?: number;
  /**
   * The user's primary group by object id or mailNickname: sets gidNumber to that group's
   * (write-only; read back as gidNumber). Without it or gidNumber, a new user's gidNumber is
   * their uidNumber, served as their private group (private-groups.ts).
   */
  primaryGroup?: string;
  homeDirectory?: string;
  loginShell?: string;
  sshPublicKeys?: string[];
}

export interface CreateUserInput {
  userPrincipalName: string;
  displayName: string;
  /** Graph's passwordProfile.password. Without one the user cannot sign in until a reset. */
  password?: string;
  /** Graph's passwordProfile.forceChangePasswordNextSignIn: the sign-in pages ask for a new password first. */
  forceChangePasswordNextSignIn?: boolean;
  accountEnabled?: boolean;
  /** The short login name; defaults to onPremisesSamAccountName, then the UPN before '@'. */
  mailNickname?: string;
  onPremisesSamAccountName?: string;
  givenName?: string | null;
  surname?: string | null;
  mail?: string | null;
  keyhavenPosix?: UserPosixInput;
  keyhavenExtraAttributes?: ExtraAttributes;
}

export type UpdateUserInput = Partial<Omit<CreateUserInput, 'password' | 'forceChangePasswordNextSignIn'>>;

const UPDATABLE = new Set<string>([
  'userPrincipalName', 'displayName', 'accountEnabled', 'mailNickname', 'onPremisesSamAccountName',
  'givenName', 'surname', 'mail', 'keyhavenPosix', 'keyhavenExtraAttributes',
]);

export const USER_FILTER_FIELDS: FilterFields = {
  id: { column: 'id', type: 'id' },
  userPrincipalName: { column: 'user_principal_name', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  givenName: { column: 'given_name', type: 'string' },
  surname: { column: 'surname', type: 'string' },
  mail: { column: 'mail', type: 'string' },
  accountEnabled: { column: 'account_enabled', type: 'boolean' },
  mailNickname: { column: 'username', type: 'string' },
  onPremisesSamAccountName: { column: 'username', type: 'string' },
  'keyhavenPosix/uidNumber': { column: 'uid_number', type: 'integer' },
  'keyhavenPosix/gidNumber': { column: 'gid_number', type: 'integer' },
  'keyhavenPosix/homeDirectory': { column: 'home_directory', type: 'string' },
  'keyhavenPosix/loginShell': { column: 'login_shell', type: 'string' },
};

export const USER_PROPERTIES = [
  'id', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'accountEnabled', 'mailNickname',
  'onPremisesSamAccountName', 'createdDateTime', 'lastPasswordChangeDateTime', 'keyhavenPosix', 'keyhavenExtraAttributes', 'keyhavenLdap',
] as const;

export class UserAccounts {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly policy: PasswordPolicy,
    private readonly options: ResolvedDirectoryOptions,
  ) {}

  /** By object id, userPrincipalName (contains '@') or short login name; as Graph's /users/{id | userPrincipalName}. */
  async find(key: string, repos: Repos = this.deps.storage.read): Promise<UserRow | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256 || key.includes('\0')) return undefined;
    if (isObjectId(key.toLowerCase())) return repos.users.byId(key.toLowerCase());
    if (key.includes('@')) return repos.users.byUpn(key);
    return repos.users.byUsername(key);
  }

  /**
   * By sign-in name only: userPrincipalName (contains '@') or short login name, never the
   * object id — every alias is another key for the login throttle (which counts per name as
   * typed), so sign-in accepts no more aliases than it must.
   */
  async findBySignInName(name: string): Promise<UserRow | undefined> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256 || name.includes('\0')) return undefined;
    return name.includes('@') ? this.deps.storage.read.users.byUpn(name) : this.deps.storage.read.users.byUsername(name);
  }

  async get(key: string): Promise<GraphUser> {
    const row = await this.find(key);
    if (!row) throw notFound('KH_USER_NOT_FOUND', key);
    return toGraphUser(row);
  }

  async list(options: ListOptions = {}): Promise<ListResult<Partial<GraphUser>>> {
    const select = parseSelect(options.select, USER_PROPERTIES, 'microsoft.graph.user');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, USER_FILTER_FIELDS);
    const page = await this.deps.storage.read.users.list(filter, { limit: parseTop(options.top), after: decodeCreationToken(options.skipToken) });
    const result: ListResult<Partial<GraphUser>> = { value: page.rows.map((r) => project(toGraphUser(r), select)) };
    if (page.next) result.nextSkipToken = encodeCreationToken(page.next);
    return result;
  }

  async create(actor: Actor, input: CreateUserInput): Promise<GraphUser> {
    if (input === null || typeof input !== 'object') throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'A user needs userPrincipalName and displayName.');
    const upn = checkUserPrincipalName(input.userPrincipalName);
    const displayName = checkDisplayName(input.displayName);
    const username = input.onPremisesSamAccountName !== undefined
      ? checkShortName(input.onPremisesSamAccountName)
      : input.mailNickname !== undefined ? checkShortName(input.mailNickname, 'mailNickname') : shortNameFromUpn(upn);
    if (this.options.userPrivateGroups) checkPrivateGroupName(username, this.options.reservedGroups);
    const posix = input.keyhavenPosix ?? {};
    if (posix === null || typeof posix !== 'object') throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'keyhavenPosix must be an object.');
    const fields = {
      given_name: checkOptionalText(input.givenName, 'givenName', 64),
      surname: checkOptionalText(input.surname, 'surname', 64),
      mail: checkMail(input.mail),
      account_enabled: input.accountEnabled === undefined ? 1 : checkBoolean(input.accountEnabled, 'accountEnabled') ? 1 : 0,
      home_directory: posix.homeDirectory === undefined ? `${this.options.homeDirectoryBase}/${username}` : checkHomeDirectory(posix.homeDirectory),
      login_shell: posix.loginShell === undefined ? this.options.defaultLoginShell : checkLoginShell(posix.loginShell),
      ssh_public_keys: JSON.stringify(posix.sshPublicKeys === undefined ? [] : checkSshPublicKeys(posix.sshPublicKeys)),
      extra: checkExtraAttributes(input.keyhavenExtraAttributes),
    };
    const uidNumber = posix.uidNumber === undefined ? undefined : checkPosixId(posix.uidNumber, 'uidNumber');
    const gidNumber = posix.gidNumber === undefined ? undefined : checkPosixId(posix.gidNumber, 'gidNumber');
    const primaryGroup = posix.primaryGroup === undefined ? undefined : checkPrimaryGroupKey(posix.primaryGroup);
    let hash: string | null = null;
    if (input.password !== undefined) {
      this.policy.check(input.password, { username, displayName, email: upn });
      hash = await this.deps.passwords.hash(input.password);
    }
    const id = randomUUID();
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'user.create', id, { userPrincipalName: upn, username }), async (tx) => {
        await this.#assertUnique(tx, id, { upn, username, uidNumber });
        const uid = uidNumber ?? (await allocatePosixId(tx, this.options.posixIdStart));
        const gid = await this.#primaryGid(tx, { uid, gidNumber, primaryGroup, uidGiven: uidNumber !== undefined });
        const now = nowIso();
        await tx.users.insert({
          id, username, user_principal_name: upn, display_name: displayName, password_hash: hash, ...fields,
          uid_number: uid, gid_number: gid, created_at: now, updated_at: now,
          password_changed_at: hash === null ? null : now,
          force_change_password: hash !== null && input.forceChangePasswordNextSignIn === true ? 1 : 0,
        });
        return (await tx.users.byId(id))!;
      }),
    );
    return toGraphUser(row);
  }

  /** Graph's PATCH /users/{id}; `expectedVersion` (from If-Match) makes it conditional. */
  async update(actor: Actor, key: string, patch: UpdateUserInput, expectedVersion?: number): Promise<GraphUser> {
    for (const name of Object.keys(patch ?? {})) {
      if (!UPDATABLE.has(name)) throw new InvalidInputError('KH_ATTRIBUTE_INVALID', `Property '${name.slice(0, 64)}' cannot be updated on a user.`);
    }
    const current = await this.find(key);
    if (!current) throw notFound('KH_USER_NOT_FOUND', key);
    const set = this.#validatePatch(patch);
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'user.update', current.id, { properties: Object.keys(patch).join(',') }), async (tx) => {
        const fresh = await tx.users.byId(current.id);
        if (!fresh) throw notFound('KH_USER_NOT_FOUND', key);
        await this.#assertUnique(tx, fresh.id, { upn: set.user_principal_name, username: set.username, uidNumber: set.uid_number });
        const posix = await this.#posixPatch(tx, fresh, set, patch.keyhavenPosix);
        if (set.account_enabled === 0 && fresh.account_enabled === 1) await assertNotLastGlobalAdmin(tx, fresh.id);
        await tx.users.updateVersioned(fresh.id, expectedVersion ?? fresh.version, { ...set, ...posix, updated_at: nowIso() });
        return (await tx.users.byId(fresh.id))!;
      }),
    );
    return toGraphUser(row);
  }

  /** Deletes the user with its group memberships and role assignments (Graph keeps a deleted user 30 days; Keyhaven does not). */
  async delete(actor: Actor, key: string): Promise<void> {
    const current = await this.find(key);
    if (!current) throw notFound('KH_USER_NOT_FOUND', key);
    await this.deps.audit.write(auditEvent(actor, 'user.delete', current.id, { username: current.username }), async (tx) => {
      if (!(await tx.users.byId(current.id))) throw notFound('KH_USER_NOT_FOUND', key);
      await assertNotLastGlobalAdmin(tx, current.id);
      await tx.groupMembers.removeMemberEverywhere(current.id);
      await tx.roleAssignments.deleteFor(current.id);
      // Its second factor (the sealed secret goes with it) and any requirement naming it.
      await tx.mfa.deleteTotp(current.id);
      await tx.mfa.removeRequirement(current.id);
      await tx.users.delete(current.id);
    });
  }

  #validatePatch(patch: UpdateUserInput) {
    const set: Partial<Omit<UserRow, 'id' | 'version' | 'created_at'>> = {};
    if (patch.userPrincipalName !== undefined) set.user_principal_name = checkUserPrincipalName(patch.userPrincipalName);
    if (patch.displayName !== undefined) set.display_name = checkDisplayName(patch.displayName);
    if (patch.accountEnabled !== undefined) set.account_enabled = checkBoolean(patch.accountEnabled, 'accountEnabled') ? 1 : 0;
    if (patch.mailNickname !== undefined) set.username = checkShortName(patch.mailNickname, 'mailNickname');
    if (patch.onPremisesSamAccountName !== undefined) set.username = checkShortName(patch.onPremisesSamAccountName);
    if (set.username !== undefined && this.options.userPrivateGroups) checkPrivateGroupName(set.username, this.options.reservedGroups);
    if (patch.givenName !== undefined) set.given_name = checkOptionalText(patch.givenName, 'givenName', 64);
    if (patch.surname !== undefined) set.surname = checkOptionalText(patch.surname, 'surname', 64);
    if (patch.mail !== undefined) set.mail = checkMail(patch.mail);
    if (patch.keyhavenExtraAttributes !== undefined) set.extra = checkExtraAttributes(patch.keyhavenExtraAttributes);
    const posix = patch.keyhavenPosix;
    if (posix !== undefined) {
      if (posix === null || typeof posix !== 'object') throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'keyhavenPosix must be an object.');
      if (posix.uidNumber !== undefined) set.uid_number = checkPosixId(posix.uidNumber, 'uidNumber');
      if (posix.gidNumber !== undefined) set.gid_number = checkPosixId(posix.gidNumber, 'gidNumber');
      if (posix.homeDirectory !== undefined) set.home_directory = checkHomeDirectory(posix.homeDirectory);
      if (posix.loginShell !== undefined) set.login_shell = checkLoginShell(posix.loginShell);
      if (posix.sshPublicKeys !== undefined) set.ssh_public_keys = JSON.stringify(checkSshPublicKeys(posix.sshPublicKeys));
      if (posix.primaryGroup !== undefined) checkPrimaryGroupKey(posix.primaryGroup);
    }
    return set;
  }

  /**
   * What an update's keyhavenPosix adds inside the transaction: primaryGroup resolved to its
   * gidNumber, and — for a user who is no POSIX account yet (the bootstrap admin) and is given
   * any POSIX attribute but SSH keys — the rest of posixAccount's required attributes
   * (RFC 2307 §2.2: uidNumber, gidNumber, homeDirectory), filled as a new user's would be.
   */
  async #posixPatch(tx: Tx, fresh: UserRow, set: Partial<UserRow>, posix: UserPosixInput | undefined): Promise<Partial<UserRow>> {
    if (posix === undefined) return {};
    const out: Partial<UserRow> = {};
    const becomesPosix = fresh.uid_number === null
      && (posix.uidNumber !== undefined || posix.gidNumber !== undefined || posix.primaryGroup !== undefined
        || posix.homeDirectory !== undefined || posix.loginShell !== undefined);
    const uid = set.uid_number ?? fresh.uid_number ?? (becomesPosix ? await allocatePosixId(tx, this.options.posixIdStart) : null);
    if (becomesPosix) {
      out.uid_number = uid;
      out.home_directory = set.home_directory ?? fresh.home_directory ?? `${this.options.homeDirectoryBase}/${set.username ?? fresh.username}`;
      out.login_shell = set.login_shell ?? fresh.login_shell ?? this.options.defaultLoginShell;
    }
    // A user whose group was their private one keeps it when their uidNumber changes.
    const followsUid = set.uid_number !== undefined && fresh.uid_number !== null && fresh.gid_number === fresh.uid_number && set.gid_number === undefined;
    if (posix.primaryGroup !== undefined || posix.gidNumber !== undefined || becomesPosix || followsUid) {
      out.gid_number = await this.#primaryGid(tx, {
        uid: uid!, gidNumber: set.gid_number ?? undefined, primaryGroup: posix.primaryGroup, uidGiven: posix.uidNumber !== undefined,
      });
    }
    return out;
  }

  /**
   * A user's gidNumber: the primary group's, the given one (a group's, or the user's own
   * uid), or the user's own uid (their private group). A uid given explicitly that a group already holds as its gid would make
   * that group the user's primary group unasked: refused, naming the way to choose it.
   */
  async #primaryGid(tx: Tx, p: { uid: number; gidNumber: number | undefined; primaryGroup: string | undefined; uidGiven: boolean }): Promise<number> {
    if (p.primaryGroup !== undefined) {
      const key = p.primaryGroup;
      const group = isObjectId(key.toLowerCase()) ? await tx.groups.byId(key.toLowerCase()) : await tx.groups.byMailNickname(key);
      if (!group || group.gid_number === null) {
        throw new InvalidInputError('KH_PRIMARY_GROUP_INVALID', `primaryGroup '${key.slice(0, 64)}' names no group with a gidNumber.`);
      }
      if (p.gidNumber !== undefined && p.gidNumber !== group.gid_number) {
        throw new InvalidInputError('KH_PRIMARY_GROUP_INVALID', `gidNumber ${p.gidNumber} is not the gidNumber of primaryGroup '${key.slice(0, 64)}' (${group.gid_number}): give one of them.`);
      }
      return group.gid_number;
    }
    if (p.gidNumber !== undefined) {
      // While private groups are on, every POSIX user's gid names a group: their own (gid =
      // uid) or a real one. A gid no group has would be nameless on every SSSD client.
      if (this.options.userPrivateGroups && p.gidNumber !== p.uid && !(await tx.groups.byGidNumber(p.gidNumber))) {
        throw new InvalidInputError('KH_PRIMARY_GROUP_INVALID', `gidNumber ${p.gidNumber} is no group's: create the group first, or name it with primaryGroup (without either, the user's own private group is their primary group).`);
      }
      return p.gidNumber;
    }
    if (p.uidGiven) {
      const holder = await tx.groups.byGidNumber(p.uid);
      if (holder) {
        throw new ConflictError('KH_POSIX_ID_TAKEN', `uidNumber ${p.uid} is the gidNumber of group '${holder.mail_nickname}', which would become this user's primary group: give gidNumber or primaryGroup to choose the primary group.`);
      }
    }
    return p.uid;
  }

  /** The clear Graph-worded conflict before the insert; the unique indexes catch any race. */
  async #assertUnique(tx: Tx, selfId: string, names: { upn?: string | undefined; username?: string | undefined; uidNumber?: number | null | undefined }): Promise<void> {
    const other = (row: UserRow | undefined) => row !== undefined && row.id !== selfId;
    if (names.upn !== undefined && other(await tx.users.byUpn(names.upn))) throw taken('KH_UPN_TAKEN', 'userPrincipalName');
    if (names.username !== undefined && other(await tx.users.byUsername(names.username))) throw taken('KH_USER_NAME_TAKEN', 'onPremisesSamAccountName');
    if (names.uidNumber !== undefined && names.uidNumber !== null && other(await tx.users.byUidNumber(names.uidNumber))) {
      throw taken('KH_POSIX_ID_TAKEN', 'keyhavenPosix/uidNumber');
    }
  }
}

function checkPrimaryGroupKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || /\p{Cc}/u.test(value)) {
    throw new InvalidInputError('KH_PRIMARY_GROUP_INVALID', "primaryGroup must be a group's object id or mailNickname.");
  }
  return value;
}
