import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, SigningKeysTable, SigningKeyState } from '../database.js';
import type { Engine } from '../storage.js';

export type SigningKeyRow = Selectable<SigningKeysTable>;

/** Told to every replica's listener when a signing key transition commits (PostgreSQL NOTIFY). */
export const SIGNING_KEYS_CHANNEL = 'keyhaven_signing_keys';

/** A fixed advisory-lock id for signing-key transitions ("khsigk" in ASCII). */
const ADVISORY_LOCK_ID = 0x6b687369676b;

export class SigningKeyRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  async all(): Promise<SigningKeyRow[]> {
    return this.db.selectFrom('signing_keys').selectAll().orderBy('activates_at').orderBy('created_at').orderBy('kid').execute();
  }

  /**
   * Inside a transaction: serialises signing-key transitions across replicas until commit
   * (PostgreSQL: a transaction-scoped advisory lock; SQLite: the transaction's BEGIN IMMEDIATE
   * already holds the database's one write lock).
   */
  async lockTransitions(): Promise<void> {
    if (this.engine === 'postgres') await sql`select pg_advisory_xact_lock(cast(${ADVISORY_LOCK_ID} as bigint))`.execute(this.db);
  }

  async insert(row: SigningKeyRow): Promise<void> {
    await this.db.insertInto('signing_keys').values(row).execute();
  }

  async setState(kid: string, state: SigningKeyState, fields: { activates_at?: number; retired_at?: number; removes_at?: number }): Promise<void> {
    await this.db.updateTable('signing_keys').set({ state, ...fields }).where('kid', '=', kid).execute();
  }

  async delete(kid: string): Promise<void> {
    await this.db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
  }

  /** Inside a transaction: tells the other replicas' listeners once (and if) it commits. */
  async announce(): Promise<void> {
    if (this.engine === 'postgres') await sql`select pg_notify(${SIGNING_KEYS_CHANNEL}, '')`.execute(this.db);
  }
}
