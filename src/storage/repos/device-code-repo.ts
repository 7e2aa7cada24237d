import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Database, DeviceCodesTable, DeviceCodeStatus } from '../database.js';

export type DeviceCodeRow = Selectable<DeviceCodesTable>;

/** Device authorizations (RFC 8628), by the SHA-256 of the device code and of the user code. */
export class DeviceCodeRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: DeviceCodeRow): Promise<void> {
    await this.db.insertInto('device_codes').values(row).execute();
  }

  async byDeviceCode(hash: string): Promise<DeviceCodeRow | undefined> {
    return this.db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
  }

  async byUserCode(hash: string): Promise<DeviceCodeRow | undefined> {
    return this.db.selectFrom('device_codes').selectAll().where('user_code_hash', '=', hash).executeTakeFirst();
  }

  /** Moves the row from `from` to `patch.status` if it is still in `from`; true when it moved. */
  async transition(deviceCodeHash: string, from: DeviceCodeStatus, patch: Updateable<DeviceCodesTable>): Promise<boolean> {
    const result = await this.db.updateTable('device_codes').set(patch).where('device_code_hash', '=', deviceCodeHash).where('status', '=', from).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touchPoll(deviceCodeHash: string, now: number): Promise<void> {
    await this.db.updateTable('device_codes').set({ last_poll_at: now }).where('device_code_hash', '=', deviceCodeHash).execute();
  }

  async sweep(before: number): Promise<void> {
    await this.db.deleteFrom('device_codes').where('expires_at', '<=', before).execute();
  }
}
