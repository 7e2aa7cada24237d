// `keyhaven admin status`: what an operator asks first about a store — which version and
// engine, whether the schema is current, which master key and signing keys are in use and how
// old they are, how far the audit chain has grown, and when the last backup was taken. It
// opens the store without migrating and without the master key (the ids it names are stored
// in the clear), so it also answers for a store a server refuses.
import { existsSync } from 'node:fs';
import type { ResolvedConfig } from '../config/load.js';
import { UnavailableError } from '../errors.js';
import { SETTING_KEK_ID, SETTING_KEK_ROTATED_AT } from '../crypto/envelope.js';
import { readMasterKey } from '../crypto/master-key.js';
import { keyhavenVersion, SETTING_LAST_BACKUP_AT, SETTING_LAST_BACKUP_FILE } from './backup.js';
import { newerSchemaError, Storage } from '../storage/storage.js';
import { SETTING_TENANT_ID } from './core.js';

const DAY_MS = 86_400_000;

export async function storeStatus(config: ResolvedConfig, now = Date.now()): Promise<Record<string, unknown>> {
  // Looking must not create: SQLite would make an empty database at a mistyped path.
  const path = config.storage.startsWith('sqlite:') ? config.storage.slice('sqlite:'.length) : undefined;
  if (path !== undefined && path !== ':memory:' && !existsSync(path)) {
    throw new UnavailableError('KH_STORAGE_UNAVAILABLE', `there is no SQLite database at ${path}`);
  }
  const storage = await Storage.open(config.storage, { poolSize: 2, migrate: false });
  try {
    const migrations = await storage.migrationStatus();
    const schemaReady = migrations.pending.length === 0 && migrations.unknown.length === 0;
    const settings = storage.read.settings;
    // Tables a pending migration has not made yet cannot be read: report what is there.
    const safely = async <T>(read: () => Promise<T>, fallback: T): Promise<T> => read().catch(() => fallback);
    const storedKek = await safely(() => settings.get(SETTING_KEK_ID), undefined);
    const localKek = (() => {
      try {
        return readMasterKey(config.masterKeyFile)?.id;
      } catch {
        return undefined;
      }
    })();
    const signingKeys = await safely(() => storage.read.signingKeys.all(), []);
    const head = await safely(() => storage.read.audit.head(), undefined);
    return {
      version: keyhavenVersion(),
      engine: storage.engine,
      storage: storage.description,
      tenantId: (await safely(() => settings.get(SETTING_TENANT_ID), undefined)) ?? null,
      schema: {
        current: schemaReady,
        last: migrations.applied.at(-1) ?? null,
        applied: migrations.applied.length,
        pending: migrations.pending,
        unknown: migrations.unknown,
      },
      masterKey: {
        id: storedKek ?? null,
        rotatedAt: (await safely(() => settings.get(SETTING_KEK_ROTATED_AT), undefined)) ?? null,
        // Whether this machine's masterKeyFile is the key the store is wrapped under.
        fileMatches: storedKek !== undefined && localKek === storedKek,
      },
      signingKeys: signingKeys.map((k) => ({
        kid: k.kid,
        state: k.state,
        createdAt: new Date(Number(k.created_at)).toISOString(),
        ageDays: Math.floor((now - Number(k.created_at)) / DAY_MS),
        ...(k.retired_at ? { retiredAt: new Date(Number(k.retired_at)).toISOString() } : {}),
      })),
      audit: { headSeq: head?.seq ?? 0 },
      lastBackup: {
        at: (await safely(() => settings.get(SETTING_LAST_BACKUP_AT), undefined)) ?? null,
        file: (await safely(() => settings.get(SETTING_LAST_BACKUP_FILE), undefined)) ?? null,
      },
    };
  } finally {
    await storage.close();
  }
}

/** `keyhaven admin migrate [--dry-run]`: what would be applied, or apply it. */
export async function migrateStore(config: ResolvedConfig, dryRun: boolean): Promise<{ dryRun: boolean; applied: string[]; pending?: string[]; migrated?: string[] }> {
  const storage = await Storage.open(config.storage, { poolSize: 2, migrate: false });
  try {
    const status = await storage.migrationStatus();
    if (status.unknown.length > 0) throw newerSchemaError(status.unknown);
    if (dryRun) return { dryRun: true, applied: status.applied, pending: status.pending };
    const migrated = await storage.migrate();
    return { dryRun: false, applied: [...status.applied, ...migrated], migrated };
  } finally {
    await storage.close();
  }
}
