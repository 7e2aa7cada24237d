import type { Kysely, Selectable } from 'kysely';
import type { Database, DataKeysTable } from '../database.js';

export type DataKeyRow = Selectable<DataKeysTable>;

export class DataKeyRepo {
  constructor(private readonly db: Kysely<Database>) {}

  all(): Promise<DataKeyRow[]> {
    return this.db.selectFrom('data_keys').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async get(id: string): Promise<DataKeyRow | undefined> {
    return this.db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The newest data key for a purpose: new ciphertexts use it, old ones name theirs. */
  async current(purpose: string): Promise<DataKeyRow | undefined> {
    return this.db
      .selectFrom('data_keys')
      .selectAll()
      .where('purpose', '=', purpose)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  async insert(row: DataKeyRow): Promise<void> {
    await this.db.insertInto('data_keys').values(row).execute();
  }

  async rewrap(id: string, wrapped: string, kekId: string): Promise<void> {
    await this.db.updateTable('data_keys').set({ wrapped, kek_id: kekId }).where('id', '=', id).execute();
  }
}
