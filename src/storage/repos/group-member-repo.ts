// Group membership edges and the transitive walks over them. The walks are one recursive
// common table expression each (WITH RECURSIVE: SQLite 3.8.3+, PostgreSQL 8.4+), so a nested
// lookup is one round trip however deep the nesting. Each walk uses UNION, not UNION ALL:
// both engines then add a row to the working set only if it was never produced before
// (SQLite "Recursive Common Table Expressions" §3; PostgreSQL "WITH Queries" §7.8.2.1), so the
// walk ends after at most one step per group even if a cycle slipped in, and a diamond
// (A ⊃ B, A ⊃ C, B ⊃ D, C ⊃ D) is visited once rather than once per path.
import { sql, type Kysely } from 'kysely';
import type { Database, MemberType } from '../database.js';
import type { ChangeRecorder } from '../directory-changes.js';

export interface MemberRef {
  id: string;
  type: MemberType;
}

/** Keyset paging by object id: ids strictly after `afterId`. */
export interface IdPage {
  limit: number;
  afterId?: string | undefined;
}

export class GroupMemberRepo {
  /** `changes`: inside a transaction, where the rows it writes are noted (directory-changes.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes?: ChangeRecorder,
  ) {}

  async add(groupId: string, member: MemberRef): Promise<void> {
    this.changes?.members.add(groupId);
    this.changes?.memberOf.add(member.id);
    await this.db.insertInto('group_members').values({ group_id: groupId, member_id: member.id, member_type: member.type }).execute();
  }

  async remove(groupId: string, memberId: string): Promise<boolean> {
    this.changes?.members.add(groupId);
    this.changes?.memberOf.add(memberId);
    const result = await this.db.deleteFrom('group_members').where('group_id', '=', groupId).where('member_id', '=', memberId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async exists(groupId: string, memberId: string): Promise<boolean> {
    const row = await this.db.selectFrom('group_members').select('member_id').where('group_id', '=', groupId).where('member_id', '=', memberId).executeTakeFirst();
    return row !== undefined;
  }

  /** Removes an object from every group it is in (the object is being deleted). */
  async removeMemberEverywhere(memberId: string): Promise<number> {
    this.changes?.memberOf.add(memberId);
    const result = await this.db.deleteFrom('group_members').where('member_id', '=', memberId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async directMembers(groupId: string, page: IdPage): Promise<MemberRef[]> {
    let q = this.db.selectFrom('group_members').select(['member_id as id', 'member_type as type']).where('group_id', '=', groupId);
    if (page.afterId !== undefined) q = q.where('member_id', '>', page.afterId);
    return q.orderBy('member_id').limit(page.limit).execute();
  }

  /** The groups `memberId` is directly in, by group id. */
  async directGroupsOf(memberId: string, page: IdPage): Promise<string[]> {
    let q = this.db.selectFrom('group_members').select('group_id').where('member_id', '=', memberId);
    if (page.afterId !== undefined) q = q.where('group_id', '>', page.afterId);
    const rows = await q.orderBy('group_id').limit(page.limit).execute();
    return rows.map((r) => r.group_id);
  }

  /** Every member of the group, of its member groups, and so on down; each once. */
  async transitiveMembers(groupId: string, page: IdPage): Promise<MemberRef[]> {
    const after = page.afterId ?? '';
    const { rows } = await sql<MemberRef>`
      with recursive closure(member_id, member_type) as (
        select member_id, member_type from group_members where group_id = ${groupId}
        union
        select gm.member_id, gm.member_type
          from group_members gm join closure c on gm.group_id = c.member_id
          where c.member_type = 'group'
      )
      select member_id as id, member_type as type from closure
      where member_id > ${after}
      order by member_id
      limit ${page.limit}`.execute(this.db);
    return rows;
  }

  /** Every group `memberId` is in, directly or through nested groups; each once. */
  async transitiveGroupsOf(memberId: string, page: IdPage): Promise<string[]> {
    const after = page.afterId ?? '';
    const { rows } = await sql<{ group_id: string }>`
      with recursive closure(group_id) as (
        select group_id from group_members where member_id = ${memberId}
        union
        select gm.group_id from group_members gm join closure c on gm.member_id = c.group_id
      )
      select group_id from closure
      where group_id > ${after}
      order by group_id
      limit ${page.limit}`.execute(this.db);
    return rows.map((r) => r.group_id);
  }

  /** Whether `memberId` is in `groupId` directly or through nesting (stops at the first hit). */
  async isTransitiveMember(memberId: string, groupId: string): Promise<boolean> {
    const { rows } = await sql<{ found: number }>`
      with recursive closure(group_id) as (
        select group_id from group_members where member_id = ${memberId}
        union
        select gm.group_id from group_members gm join closure c on gm.member_id = c.group_id
      )
      select 1 as found from closure where group_id = ${groupId} limit 1`.execute(this.db);
    return rows.length > 0;
  }

  /** Every membership edge, in one query: loading the read model. */
  async all(): Promise<(MemberRef & { groupId: string })[]> {
    return this.db.selectFrom('group_members').select(['group_id as groupId', 'member_id as id', 'member_type as type']).execute();
  }

  /** The membership edges of these groups (as containers) and of these objects (as members). */
  async edgesOf(groupIds: readonly string[], memberIds: readonly string[]): Promise<(MemberRef & { groupId: string })[]> {
    if (groupIds.length === 0 && memberIds.length === 0) return [];
    return this.db
      .selectFrom('group_members')
      .select(['group_id as groupId', 'member_id as id', 'member_type as type'])
      .where((eb) => eb.or([
        ...(groupIds.length > 0 ? [eb('group_id', 'in', [...groupIds])] : []),
        ...(memberIds.length > 0 ? [eb('member_id', 'in', [...memberIds])] : []),
      ]))
      .execute();
  }
}
