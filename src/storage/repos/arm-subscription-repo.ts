import type { Kysely, Selectable } from 'kysely';
import type { ArmSubscriptionsTable, Database } from '../database.js';

export type ArmSubscriptionRow = Selectable<ArmSubscriptionsTable>;

export class ArmSubscriptionRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async byId(id: string): Promise<ArmSubscriptionRow | undefined> {
    return this.db.selectFrom('arm_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async all(): Promise<ArmSubscriptionRow[]> {
    return this.db.selectFrom('arm_subscriptions').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async insert(row: ArmSubscriptionRow): Promise<void> {
    await this.db.insertInto('arm_subscriptions').values(row).execute();
  }

  async update(id: string, patch: Partial<Pick<ArmSubscriptionRow, 'display_name' | 'state' | 'updated_at'>>): Promise<void> {
    await this.db.updateTable('arm_subscriptions').set(patch).where('id', '=', id).execute();
  }
}
