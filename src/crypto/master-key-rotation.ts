// `keyhaven admin rotate-master-key`: re-wraps every data key under a new KEK in one
// transaction. Values sealed under data keys are untouched (that is what envelope encryption
// buys), so rotation is quick and the running servers, which hold the unwrapped data keys in
// memory, keep serving. Afterwards a server holding only the old KEK refuses to start and
// says why (see checkMasterKey).
import { ConflictError, StartupError } from '../errors.js';
import type { Tx } from '../storage/storage.js';
import { SETTING_KEK_ID, SETTING_KEK_PREVIOUS_ID, SETTING_KEK_ROTATED_AT, unwrapDataKey, wrapDataKey } from './envelope.js';
import type { MasterKey } from './master-key.js';

export async function rewrapDataKeys(tx: Tx, oldKey: MasterKey, newKey: MasterKey): Promise<number> {
  if (oldKey.id === newKey.id) throw new ConflictError('KH_MASTER_KEY_SAME', 'the new master key is the current one');
  const current = await tx.settings.get(SETTING_KEK_ID);
  if (current === newKey.id) throw new ConflictError('KH_MASTER_KEY_ALREADY_ROTATED', `the database is already wrapped under key ${newKey.id}`);
  if (current !== oldKey.id) {
    throw new StartupError('KH_MASTER_KEY_MISMATCH', `master key ${oldKey.file} (id ${oldKey.id}) is not the key this database is wrapped under (id ${current})`);
  }
  const rows = await tx.dataKeys.all();
  for (const row of rows) {
    const key = unwrapDataKey(oldKey, row);
    if (!key) throw new StartupError('KH_DATA_KEY_UNWRAP_FAILED', `data key ${row.id} cannot be unwrapped with master key ${oldKey.id}`);
    await tx.dataKeys.rewrap(row.id, wrapDataKey(newKey, row, key), newKey.id);
  }
  await tx.settings.set(SETTING_KEK_ID, newKey.id);
  await tx.settings.set(SETTING_KEK_PREVIOUS_ID, oldKey.id);
  await tx.settings.set(SETTING_KEK_ROTATED_AT, new Date().toISOString());
  return rows.length;
}
