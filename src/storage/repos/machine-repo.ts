import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, MachineJoinTokensTable, MachinesTable } from '../database.js';
import type { Engine } from '../storage.js';

export type MachineJoinTokenRow = Selectable<MachineJoinTokensTable>;
export type MachineRow = Selectable<MachinesTable>;

/** PostgreSQL's channel for machine revocations: replicas reload their set of active machines. */
export const MACHINES_CHANNEL = 'keyhaven_machines';

/** Join tokens and joined machines (0014_machines). */
export class MachineRepo {
  constructor(private readonly db: Kysely<Database>, private readonly engine: Engine) {}

  async insertJoinToken(row: MachineJoinTokenRow): Promise<void> {
    await this.db.insertInto('machine_join_tokens').values(row).execute();
  }

  async joinTokenByDigest(digest: string): Promise<MachineJoinTokenRow | undefined> {
    return this.db.selectFrom('machine_join_tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
  }

  /**
   * Takes one use of a join token if it has one left and has not expired: one statement, so two
   * machines racing for the last use cannot both have it. True when this call took it.
   */
  async takeJoinTokenUse(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('machine_join_tokens')
      .set({ uses: sql<number>`uses + 1` })
      .where('id', '=', id)
      .where(sql<boolean>`uses < max_uses`)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async joinTokensOf(resourceKey: string): Promise<MachineJoinTokenRow[]> {
    return this.db.selectFrom('machine_join_tokens').selectAll().where('resource_key', '=', resourceKey).orderBy('created_at').execute();
  }

  async insertMachine(row: MachineRow): Promise<void> {
    await this.db.insertInto('machines').values(row).execute();
  }

  async machineById(id: string): Promise<MachineRow | undefined> {
    return this.db.selectFrom('machines').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async machineByClientId(clientId: string): Promise<MachineRow | undefined> {
    return this.db.selectFrom('machines').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  async machinesOf(resourceKey: string): Promise<MachineRow[]> {
    return this.db.selectFrom('machines').selectAll().where('resource_key', '=', resourceKey).orderBy('created_at').orderBy('id').execute();
  }

  /** The ids of every machine not revoked. */
  async activeMachineIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('machines').select('id').where('revoked_at', 'is', null).execute();
    return rows.map((r) => r.id);
  }

  /** Revokes a machine that is not revoked yet; true when this call revoked it. */
  async revoke(id: string, at: string, by: string): Promise<boolean> {
    const result = await this.db.updateTable('machines').set({ revoked_at: at, revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    const revoked = Number(result.numUpdatedRows) === 1;
    if (revoked) await this.#notify();
    return revoked;
  }

  /** Replaces the public key if it is still `currentKid` and the machine is not revoked (compare-and-set). */
  async replaceKey(id: string, currentKid: string, kid: string, publicJwk: string, at: string): Promise<boolean> {
    const result = await this.db.updateTable('machines').set({ kid, public_jwk: publicJwk, key_updated_at: at })
      .where('id', '=', id).where('kid', '=', currentKid).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The resource is gone: its join tokens and its machines go (their ids returned). */
  async deleteResource(resourceKeys: readonly string[]): Promise<string[]> {
    if (resourceKeys.length === 0) return [];
    await this.db.deleteFrom('machine_join_tokens').where('resource_key', 'in', [...resourceKeys]).execute();
    const rows = await this.db.selectFrom('machines').select('id').where('resource_key', 'in', [...resourceKeys]).execute();
    if (rows.length === 0) return [];
    await this.db.deleteFrom('machines').where('resource_key', 'in', [...resourceKeys]).execute();
    await this.#notify();
    return rows.map((r) => r.id);
  }

  /** A machine joined: other replicas reload their set of active machines. */
  async notifyJoin(): Promise<void> {
    await this.#notify();
  }

  /** Sent inside the writing transaction: delivered to other replicas only once it commits. */
  async #notify(): Promise<void> {
    if (this.engine === 'postgres') await sql`select pg_notify(${MACHINES_CHANNEL}, '')`.execute(this.db);
  }
}
