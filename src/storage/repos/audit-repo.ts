import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditRecordsTable, Database } from '../database.js';

export type AuditRow = Selectable<AuditRecordsTable>;

export interface AuditQuery {
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  afterSeq?: number;
  limit: number;
}

export class AuditRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: 'sqlite' | 'postgres',
  ) {}

  /**
   * Reads the chain head inside the caller's transaction. On PostgreSQL the row is locked
   * (SELECT … FOR UPDATE) so that replicas append to the chain one batch at a time; SQLite's
   * BEGIN IMMEDIATE already holds the database's single write lock.
   */
  async lockHead(): Promise<{ seq: number; mac: string } | undefined> {
    let q = this.db.selectFrom('audit_head').select(['seq', 'mac']).where('id', '=', 1);
    if (this.engine === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? { seq: Number(row.seq), mac: row.mac } : undefined;
  }

  async head(): Promise<{ seq: number; mac: string } | undefined> {
    const row = await this.db.selectFrom('audit_head').select(['seq', 'mac']).where('id', '=', 1).executeTakeFirst();
    return row ? { seq: Number(row.seq), mac: row.mac } : undefined;
  }

  async setHead(seq: number, mac: string): Promise<void> {
    await this.db
      .insertInto('audit_head')
      .values({ id: 1, seq, mac })
      .onConflict((oc) => oc.column('id').doUpdateSet({ seq, mac }))
      .execute();
  }

  async insert(row: AuditRow): Promise<void> {
    await this.db.insertInto('audit_records').values(row).execute();
  }

  async page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.db
      .selectFrom('audit_records')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async query(q: AuditQuery): Promise<AuditRow[]> {
    let query = this.db.selectFrom('audit_records').selectAll();
    if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
    if (q.action !== undefined) {
      // `secret.*` style prefixes are common when filtering; LIKE wildcards in the input are escaped.
      query = q.action.endsWith('*')
        ? query.where('action', 'like', sql<string>`${q.action.slice(0, -1).replace(/[\\%_]/g, '\\$&') + '%'} escape '\\'`)
        : query.where('action', '=', q.action);
    }
    if (q.since !== undefined) query = query.where('time', '>=', q.since);
    if (q.until !== undefined) query = query.where('time', '<', q.until);
    if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
    const rows = await query.orderBy('seq').limit(q.limit).execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('audit_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
