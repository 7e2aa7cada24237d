// Security groups: Graph's /groups (securityEnabled, not mail-enabled, no Microsoft 365
// "Unified" type) with a POSIX gidNumber from the same range as users' ids, so LDAP can
// serve each as a posixGroup. Membership lives in group-membership.ts.
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { GroupRow } from '../storage/repos/group-repo.js';
import type { Repos, Tx } from '../storage/storage.js';
import {
  auditEvent, notFound, nowIso, retryUniqueRace, taken,
  type Actor, type DirectoryDeps, type ResolvedDirectoryOptions,
} from './directory-context.js';
import { checkExtraAttributes, type ExtraAttributes } from './extra-attributes.js';
import { toGraphGroup, type GraphGroup } from './graph-objects.js';
import { parseFilter, type FilterFields } from './odata-filter.js';
import { decodeCreationToken, encodeCreationToken, isObjectId, parseSelect, parseTop, project, type ListOptions, type ListResult } from './odata-query.js';
import { allocatePosixId, checkPosixId } from './posix-attributes.js';
import type { PrivateGroupReads } from './private-group-reads.js';
import { checkBoolean, checkDisplayName, checkGroupNickname, checkOptionalText } from './principal-names.js';

export interface CreateGroupInput {
  displayName: string;
  mailNickname: string;
  description?: string | null;
  /** Graph requires it on creation; Keyhaven's groups are security groups, so true or absent. */
  securityEnabled?: boolean;
  /** Graph requires it on creation; only false is supported. */
  mailEnabled?: boolean;
  groupTypes?: string[];
  keyhavenPosix?: { gidNumber?: number };
  keyhavenExtraAttributes?: ExtraAttributes;
}

export type UpdateGroupInput = Partial<Pick<CreateGroupInput, 'displayName' | 'mailNickname' | 'description' | 'keyhavenPosix' | 'keyhavenExtraAttributes'>>;

const UPDATABLE = new Set(['displayName', 'mailNickname', 'description', 'keyhavenPosix', 'keyhavenExtraAttributes']);

export const GROUP_FILTER_FIELDS: FilterFields = {
  id: { column: 'id', type: 'id' },
  displayName: { column: 'display_name', type: 'string' },
  mailNickname: { column: 'mail_nickname', type: 'string' },
  description: { column: 'description', type: 'string' },
  securityEnabled: { column: 'security_enabled', type: 'boolean' },
  'keyhavenPosix/gidNumber': { column: 'gid_number', type: 'integer' },
};

export const GROUP_PROPERTIES = [
  'id', 'displayName', 'mailNickname', 'description', 'securityEnabled', 'mailEnabled', 'groupTypes',
  'createdDateTime', 'keyhavenPosix', 'keyhavenExtraAttributes', 'keyhavenLdap',
] as const;

export class Groups {
  constructor(
    private readonly deps: DirectoryDeps,
    private readonly options: ResolvedDirectoryOptions,
    private readonly privateGroups: PrivateGroupReads,
  ) {}

  /** By object id or mailNickname (the name LDAP serves as cn). */
  async find(key: string, repos: Repos = this.deps.storage.read): Promise<GroupRow | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256 || key.includes('\0')) return undefined;
    return isObjectId(key.toLowerCase()) ? repos.groups.byId(key.toLowerCase()) : repos.groups.byMailNickname(key);
  }

  async get(key: string): Promise<GraphGroup> {
    const row = await this.find(key);
    if (!row) throw notFound('KH_GROUP_NOT_FOUND', key);
    return toGraphGroup(row);
  }

  async list(options: ListOptions = {}): Promise<ListResult<Partial<GraphGroup>>> {
    const select = parseSelect(options.select, GROUP_PROPERTIES, 'microsoft.graph.group');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, GROUP_FILTER_FIELDS);
    const page = await this.deps.storage.read.groups.list(filter, { limit: parseTop(options.top), after: decodeCreationToken(options.skipToken) });
    const result: ListResult<Partial<GraphGroup>> = { value: page.rows.map((r) => project(toGraphGroup(r), select)) };
    if (page.next) result.nextSkipToken = encodeCreationToken(page.next);
    return result;
  }

  async create(actor: Actor, input: CreateGroupInput): Promise<GraphGroup> {
    if (input === null || typeof input !== 'object') throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'A group needs displayName and mailNickname.');
    const displayName = checkDisplayName(input.displayName);
    const mailNickname = checkGroupNickname(input.mailNickname, this.options.reservedGroups);
    const description = checkOptionalText(input.description, 'description');
    if (input.securityEnabled !== undefined && !checkBoolean(input.securityEnabled, 'securityEnabled')) {
      throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'Keyhaven groups are security groups: securityEnabled must be true.');
    }
    if (input.mailEnabled !== undefined && checkBoolean(input.mailEnabled, 'mailEnabled')) {
      throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'Keyhaven groups cannot be mail-enabled: mailEnabled must be false.');
    }
    if (input.groupTypes !== undefined && (!Array.isArray(input.groupTypes) || input.groupTypes.length > 0)) {
      throw new InvalidInputError('KH_ATTRIBUTE_INVALID', 'Only security groups are supported: groupTypes must be empty.');
    }
    const gidNumber = input.keyhavenPosix?.gidNumber === undefined ? undefined : checkPosixId(input.keyhavenPosix.gidNumber, 'gidNumber');
    const extra = checkExtraAttributes(input.keyhavenExtraAttributes);
    const id = randomUUID();
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'group.create', id, { mailNickname }), async (tx) => {
        await this.#assertUnique(tx, id, mailNickname, gidNumber);
        const gid = gidNumber ?? (await allocatePosixId(tx, this.options.posixIdStart));
        await this.privateGroups.assertGroupLeavesPrivateGroups(tx, { id, name: mailNickname, gidNumber: gid });
        const now = nowIso();
        await tx.groups.insert({
          id, display_name: displayName, mail_nickname: mailNickname, description, security_enabled: 1, extra,
          gid_number: gid, created_at: now, updated_at: now,
        });
        return (await tx.groups.byId(id))!;
      }),
    );
    return toGraphGroup(row);
  }

  async update(actor: Actor, key: string, patch: UpdateGroupInput, expectedVersion?: number): Promise<GraphGroup> {
    for (const name of Object.keys(patch ?? {})) {
      if (!UPDATABLE.has(name)) throw new InvalidInputError('KH_ATTRIBUTE_INVALID', `Property '${name.slice(0, 64)}' cannot be updated on a group.`);
    }
    const current = await this.find(key);
    if (!current) throw notFound('KH_GROUP_NOT_FOUND', key);
    const set: Partial<Pick<GroupRow, 'display_name' | 'mail_nickname' | 'description' | 'gid_number' | 'extra'>> = {};
    if (patch.displayName !== undefined) set.display_name = checkDisplayName(patch.displayName);
    if (patch.mailNickname !== undefined) set.mail_nickname = checkGroupNickname(patch.mailNickname, this.options.reservedGroups);
    if (patch.description !== undefined) set.description = checkOptionalText(patch.description, 'description');
    if (patch.keyhavenPosix?.gidNumber !== undefined) set.gid_number = checkPosixId(patch.keyhavenPosix.gidNumber, 'gidNumber');
    if (patch.keyhavenExtraAttributes !== undefined) set.extra = checkExtraAttributes(patch.keyhavenExtraAttributes);
    const row = await retryUniqueRace(() =>
      this.deps.audit.write(auditEvent(actor, 'group.update', current.id, { properties: Object.keys(patch).join(',') }), async (tx) => {
        const fresh = await tx.groups.byId(current.id);
        if (!fresh) throw notFound('KH_GROUP_NOT_FOUND', key);
        await this.#assertUnique(tx, fresh.id, set.mail_nickname, set.gid_number ?? undefined);
        if (set.mail_nickname !== undefined || set.gid_number !== undefined) {
          await this.privateGroups.assertGroupLeavesPrivateGroups(tx, {
            id: fresh.id, name: set.mail_nickname ?? fresh.mail_nickname, gidNumber: set.gid_number ?? fresh.gid_number,
          });
        }
        if (set.gid_number !== undefined && fresh.gid_number !== null && set.gid_number !== fresh.gid_number) await assertNotPrimary(tx, fresh.gid_number, 'change the gidNumber of');
        await tx.groups.updateVersioned(fresh.id, expectedVersion ?? fresh.version, { ...set, updated_at: nowIso() });
        return (await tx.groups.byId(fresh.id))!;
      }),
    );
    return toGraphGroup(row);
  }

  /** Deletes the group, its member list, its own memberships in other groups, and role assignments scoped to it. */
  async delete(actor: Actor, key: string): Promise<void> {
    const current = await this.find(key);
    if (!current) throw notFound('KH_GROUP_NOT_FOUND', key);
    await this.deps.audit.write(auditEvent(actor, 'group.delete', current.id, { mailNickname: current.mail_nickname }), async (tx) => {
      const fresh = await tx.groups.byId(current.id);
      if (fresh?.gid_number !== null && fresh?.gid_number !== undefined) await assertNotPrimary(tx, fresh.gid_number, 'delete');
      if (!(await tx.groups.delete(current.id))) throw notFound('KH_GROUP_NOT_FOUND', key);
      await tx.groupMembers.removeMemberEverywhere(current.id);
      await tx.roleAssignments.deleteFor(current.id);
      await tx.mfa.removeRequirement(current.id);
    });
  }

  async #assertUnique(tx: Tx, selfId: string, mailNickname: string | undefined, gidNumber: number | undefined): Promise<void> {
    if (mailNickname !== undefined) {
      const other = await tx.groups.byMailNickname(mailNickname);
      if (other && other.id !== selfId) throw taken('KH_GROUP_NAME_TAKEN', 'mailNickname');
    }
    if (gidNumber !== undefined) {
      const other = await tx.groups.byGidNumber(gidNumber);
      if (other && other.id !== selfId) throw taken('KH_POSIX_ID_TAKEN', 'keyhavenPosix/gidNumber');
    }
  }
}

/**
 * Active Directory refuses to delete a group that is some member's primary group; so does
 * Keyhaven, for the POSIX primary group (a user's gidNumber): a gidNumber naming no group is one
 * SSSD and nslcd cannot resolve (`id` prints a bare number, some tools fail). Checked inside the
 * transaction that would change it.
 */
async function assertNotPrimary(tx: Tx, gidNumber: number, doing: string): Promise<void> {
  const users = await tx.users.withPrimaryGid(gidNumber, 3);
  if (users.length === 0) return;
  const names = users.map((u) => u.username).join(', ');
  throw new ConflictError('KH_GROUP_IS_PRIMARY', `Cannot ${doing} the group: it is the primary group (gidNumber ${gidNumber}) of ${users.length === 3 ? 'users including ' : ''}${names}. Give them another primary group (keyhavenPosix/gidNumber) first.`);
}
