// Backup and verified restore (`keyhaven admin backup|restore`). A backup is one consistent
// snapshot of every table, taken while servers keep serving, encrypted into one file
// (backup-file.ts). A restore checks everything it can before it writes anything — the
// checksum, the key, that this version knows the backup's schema, that the master key the
// data keys are wrapped under is in place, that the store is empty — then writes every table
// in one transaction, migrates to this version's schema, and proves the result opens: the
// data keys unwrap under the master key and the audit chain continues with a record of the
// restore.
import { readFileSync } from 'node:fs';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { createMasterKey, masterKeyId, readMasterKey, writeFileAtomic, type MasterKey } from '../crypto/master-key.js';
import type { CoreServices } from './core.js';
import { knownMigrations } from '../storage/migrations.js';
import { newerSchemaError, Storage } from '../storage/storage.js';
import { decodeBackup, encodeBackup, readBackupHeader, type BackupHeader, type BackupKey } from '../crypto/backup-file.js';

export const SETTING_LAST_BACKUP_AT = 'backup_last_at';
export const SETTING_LAST_BACKUP_FILE = 'backup_last_file';

export function keyhavenVersion(): string {
  // src/server/ and dist/server/ are both two levels below the package root.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function masterBackupKey(kek: MasterKey): BackupKey {
  return { source: 'master-key', id: kek.id, key: kek.key };
}

/** A separate backup key: 32 random bytes in base64, like the master key file. */
export function backupKeyFromFile(file: string, create: boolean): BackupKey {
  let key = readMasterKey(file);
  if (!key) {
    if (!create) throw new InvalidInputError('KH_BACKUP_KEY_MISSING', `backup key file ${file} does not exist`);
    key = createMasterKey(file);
  }
  return { source: 'key-file', id: masterKeyId(key.key), key: key.key };
}

export interface BackupResult {
  file: string;
  createdAt: string;
  keyId: string;
  keySource: string;
  lastMigration: string | null;
  tables: number;
  rows: number;
  bytes: number;
}

/** Writes a backup of `core`'s store to `file` (0600, atomically) and records it. */
export async function takeBackup(core: CoreServices, file: string, keyFile?: string, options: { ownConnection?: boolean } = {}): Promise<BackupResult> {
  const key = keyFile ? backupKeyFromFile(keyFile, true) : masterBackupKey(core.masterKey);
  const createdAt = new Date().toISOString();
  const snapshot = await readSnapshot(core, options.ownConnection === true);
  const encoded = encodeBackup(
    snapshot,
    { keyhavenVersion: keyhavenVersion(), engine: core.storage.engine, tenantId: core.tenantId, createdAt, masterKeyId: core.masterKey.id },
    key,
  );
  writeFileAtomic(file, encoded, 0o600);
  await core.audit.write(
    { actor: 'system', action: 'store.backup', details: { createdAt, keyId: key.id, keySource: key.source, bytes: encoded.length } },
    async (tx) => {
      await tx.settings.set(SETTING_LAST_BACKUP_AT, createdAt);
      await tx.settings.set(SETTING_LAST_BACKUP_FILE, file);
    },
  );
  return {
    file,
    createdAt,
    keyId: key.id,
    keySource: key.source,
    lastMigration: snapshot.migrations.at(-1) ?? null,
    tables: snapshot.tables.length,
    rows: snapshot.tables.reduce((n, t) => n + t.rows.length, 0),
    bytes: encoded.length,
  };
}

/**
 * The snapshot, on the core's storage or (a serving process on SQLite) on a connection of its
 * own: SQLite's one connection would otherwise be held for the whole read, and every request
 * would wait for it; on a second connection the WAL lets the server keep writing.
 */
async function readSnapshot(core: CoreServices, ownConnection: boolean) {
  if (!ownConnection || core.storage.engine !== 'sqlite') return core.storage.snapshot();
  const own = await Storage.open(core.config.storage, { migrate: false });
  try {
    return await own.snapshot();
  } finally {
    await own.close();
  }
}

export interface RestoreOptions {
  file: string;
  keyFile?: string;
  /** Replace what a non-empty store holds. */
  force: boolean;
}

export interface RestoreResult {
  file: string;
  storage: string;
  tenantId: string | null;
  backupCreatedAt: string;
  backupEngine: string;
  lastMigration: string | null;
  tables: number;
  rows: number;
  migratedAfterRestore: string[];
}

function readBackupFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InvalidInputError('KH_BACKUP_INVALID', `cannot read backup file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function keyFor(header: BackupHeader, config: ResolvedConfig, keyFile: string | undefined): BackupKey {
  if (keyFile) return backupKeyFromFile(keyFile, false);
  if (header.key.source === 'key-file') {
    throw new InvalidInputError('KH_BACKUP_KEY_MISSING', `the backup is encrypted under a backup key file (id ${header.key.id}): give it with --key-file`);
  }
  const kek = readMasterKey(config.masterKeyFile);
  if (!kek) {
    throw new InvalidInputError('KH_BACKUP_KEY_MISSING', `the backup is encrypted under master key id ${header.key.id}, and ${config.masterKeyFile} does not exist: copy that master key file there (or set masterKeyFile)`);
  }
  return masterBackupKey(kek);
}

/** Restores `options.file` into the store `config` names. Writes nothing unless every check passes. */
export async function restoreBackup(config: ResolvedConfig, options: RestoreOptions): Promise<RestoreResult> {
  // 1. The file: checksum, key, payload — before the store is even opened.
  const raw = readBackupFile(options.file);
  const { header: plainHeader } = readBackupHeader(raw);
  const { header, snapshot } = decodeBackup(raw, keyFor(plainHeader, config, options.keyFile));
  // 2. The schema: this version must know every migration the backup's store had.
  const known = new Set(knownMigrations());
  const newer = snapshot.migrations.filter((m) => !known.has(m));
  if (newer.length > 0) {
    throw new InvalidInputError('KH_BACKUP_SCHEMA_NEWER', `the backup was taken by a newer Keyhaven (${header.keyhavenVersion}; migrations ${newer.join(', ')} are unknown here): restore it with that version or a later one`);
  }
  // 3. The master key the data keys are wrapped under must be the one this home will use.
  if (header.masterKeyId) {
    const kek = readMasterKey(config.masterKeyFile);
    if (!kek || kek.id !== header.masterKeyId) {
      throw new InvalidInputError(
        'KH_BACKUP_MASTER_KEY_MISMATCH',
        `the backup's data keys are wrapped under master key id ${header.masterKeyId}, but ${config.masterKeyFile} ${kek ? `holds key id ${kek.id}` : 'does not exist'}: install that master key file first`,
      );
    }
  }
  // 4. The store: migrated no further than the backup, then the rows in one transaction.
  const storage = await Storage.open(config.storage, { poolSize: 2, migrate: false });
  let written: number;
  let migrated: string[];
  try {
    const status = await storage.migrationStatus();
    if (status.unknown.length > 0) throw newerSchemaError(status.unknown);
    const wanted = new Set(snapshot.migrations);
    const beyond = status.applied.filter((m) => !wanted.has(m));
    if (beyond.length > 0) {
      throw new ConflictError('KH_RESTORE_SCHEMA_MISMATCH', `the store is already migrated past the backup (${beyond.join(', ')}): restore into a fresh home or database`);
    }
    const last = snapshot.migrations.at(-1);
    if (last && status.applied.length < snapshot.migrations.length) await storage.migrateTo(last);
    written = await storage.restoreSnapshot(snapshot, { replace: options.force });
    migrated = await storage.migrate();
  } finally {
    await storage.close();
  }
  return {
    file: options.file,
    storage: storage.description,
    tenantId: header.tenantId,
    backupCreatedAt: header.createdAt,
    backupEngine: header.engine,
    lastMigration: header.lastMigration,
    tables: snapshot.tables.length,
    rows: written,
    migratedAfterRestore: migrated,
  };
}
