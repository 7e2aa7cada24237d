// The backup file: one self-describing, encrypted file.
//
//   KEYHAVEN-BACKUP/1\n
//   {header JSON}\n
//   ciphertext ‖ GCM tag (16 bytes) ‖ SHA-256 of everything before it (32 bytes)
//
// The header is plaintext (an operator can see what a file is and which key opens it without
// that key) and is the AES-256-GCM associated data, so it cannot be altered either. The
// payload is the gzipped, engine-neutral snapshot (src/storage/snapshot.ts). The encryption
// key is HKDF-SHA-256 (RFC 5869) of the master key (KEK) or of a separate backup key file,
// with a random salt from the header: one KEK never encrypts two backups under the same key.
// Secrets inside stay sealed under their data keys, exactly as in the database. The trailing
// checksum tells a truncated or damaged file (checksum) from a wrong key (GCM tag) before
// any decryption is tried, so the message can say which.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidInputError } from '../errors.js';
import type { Snapshot } from '../storage/snapshot.js';

export const BACKUP_MAGIC = 'KEYHAVEN-BACKUP/1';
export const BACKUP_FORMAT_VERSION = 1;
const TAG_BYTES = 16;
const SUM_BYTES = 32;
const HKDF_INFO = 'keyhaven/backup/v1';

export type BackupKeySource = 'master-key' | 'key-file';

export interface BackupHeader {
  formatVersion: number;
  keyhavenVersion: string;
  /** The engine the backup was read from (restores go into either). */
  engine: string;
  lastMigration: string | null;
  migrations: string[];
  tenantId: string | null;
  createdAt: string;
  /** The key the file is encrypted under: the master key, or a separate backup key file. */
  key: { source: BackupKeySource; id: string };
  /** The master key the data keys inside are wrapped under (what a restored server needs). */
  masterKeyId: string | null;
  salt: string;
  iv: string;
  compression: 'gzip';
  tables: { name: string; rows: number }[];
}

/** A key that opens backups: its bytes and the id the header names it by. */
export interface BackupKey {
  source: BackupKeySource;
  id: string;
  key: Buffer;
}

function deriveKey(key: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, HKDF_INFO, 32));
}

export function encodeBackup(snapshot: Snapshot, meta: Omit<BackupHeader, 'formatVersion' | 'salt' | 'iv' | 'compression' | 'tables' | 'key' | 'migrations' | 'lastMigration'>, key: BackupKey): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header: BackupHeader = {
    formatVersion: BACKUP_FORMAT_VERSION,
    ...meta,
    lastMigration: snapshot.migrations.at(-1) ?? null,
    migrations: snapshot.migrations,
    key: { source: key.source, id: key.id },
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    compression: 'gzip',
    tables: snapshot.tables.map((t) => ({ name: t.name, rows: t.rows.length })),
  };
  const preamble = Buffer.from(`${BACKUP_MAGIC}\n${JSON.stringify(header)}\n`, 'utf8');
  const cipher = createCipheriv('aes-256-gcm', deriveKey(key.key, salt), iv);
  cipher.setAAD(preamble);
  const ciphertext = Buffer.concat([cipher.update(gzipSync(Buffer.from(JSON.stringify(snapshot), 'utf8'))), cipher.final(), cipher.getAuthTag()]);
  const body = Buffer.concat([preamble, ciphertext]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function refused(message: string): InvalidInputError {
  return new InvalidInputError('KH_BACKUP_INVALID', message);
}

/** Reads the plaintext header and checks the checksum; no key needed. */
export function readBackupHeader(file: Buffer): { header: BackupHeader; preamble: Buffer; ciphertext: Buffer } {
  const first = file.indexOf(0x0a);
  if (first < 0 || file.subarray(0, first).toString('utf8') !== BACKUP_MAGIC) throw refused('not a Keyhaven backup file (bad magic line)');
  const second = file.indexOf(0x0a, first + 1);
  if (second < 0) throw refused('the backup file is truncated: its header is incomplete');
  let header: BackupHeader;
  try {
    header = JSON.parse(file.subarray(first + 1, second).toString('utf8')) as BackupHeader;
  } catch {
    throw refused('the backup header is damaged (not JSON)');
  }
  if (typeof header !== 'object' || header === null) throw refused('the backup header is damaged (not an object)');
  if (header.formatVersion !== BACKUP_FORMAT_VERSION) throw refused(`backup format ${String(header.formatVersion)} is not supported by this version (format ${BACKUP_FORMAT_VERSION})`);
  const wellFormed = typeof header.key?.id === 'string' && (header.key.source === 'master-key' || header.key.source === 'key-file')
    && typeof header.salt === 'string' && typeof header.iv === 'string' && Array.isArray(header.migrations) && typeof header.createdAt === 'string';
  if (!wellFormed) throw refused('the backup header is damaged (fields missing)');
  const preamble = file.subarray(0, second + 1);
  const rest = file.subarray(second + 1);
  if (rest.length < TAG_BYTES + SUM_BYTES) throw refused('the backup file is truncated');
  const body = file.subarray(0, file.length - SUM_BYTES);
  const sum = file.subarray(file.length - SUM_BYTES);
  if (!timingSafeEqual(createHash('sha256').update(body).digest(), sum)) {
    throw refused('the backup checksum does not match: the file is truncated or damaged');
  }
  return { header, preamble, ciphertext: rest.subarray(0, rest.length - SUM_BYTES) };
}

/** Checks the checksum and the key, then decrypts. Throws one clear InvalidInputError otherwise. */
export function decodeBackup(file: Buffer, key: BackupKey): { header: BackupHeader; snapshot: Snapshot } {
  const { header, preamble, ciphertext } = readBackupHeader(file);
  if (header.key.id !== key.id) {
    const what = header.key.source === 'key-file' ? 'backup key file' : 'master key';
    throw refused(`the backup is encrypted under ${what} id ${header.key.id}; the key given has id ${key.id}`);
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(key.key, Buffer.from(header.salt, 'base64')), Buffer.from(header.iv, 'base64'));
    decipher.setAAD(preamble);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw refused('the backup cannot be decrypted: wrong key, or the file was altered');
  }
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(gunzipSync(plain).toString('utf8')) as Snapshot;
  } catch {
    throw refused('the backup payload is damaged');
  }
  return { header, snapshot };
}
