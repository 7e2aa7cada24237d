// The key-encryption key (KEK): 32 random bytes in a file outside the database (base64 text,
// mode 0600). It wraps the data keys; the database only ever holds its key id — an HMAC of
// a fixed label under the key, which identifies the key without revealing it.
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { StartupError } from '../errors.js';

export interface MasterKey {
  /** 16 hex digits: HMAC-SHA-256(kek, label), safe to store and to print. */
  readonly id: string;
  readonly key: Buffer;
  readonly file: string;
}

const KEY_BYTES = 32;

export function masterKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('keyhaven/master-key-id/v1').digest('hex').slice(0, 16);
}

/** Reads the KEK file; undefined when it does not exist, StartupError when it is unusable. */
export function readMasterKey(file: string): MasterKey | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new StartupError('KH_MASTER_KEY_UNREADABLE', `cannot read master key file ${file}: ${code ?? 'error'}`);
  }
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new StartupError('KH_MASTER_KEY_CORRUPT', `master key file ${file} is corrupt: expected ${KEY_BYTES} bytes in base64`);
  }
  return { id: masterKeyId(key), key, file };
}

/** Creates a new KEK file (0600) atomically; refuses to overwrite an existing one. */
export function createMasterKey(file: string): MasterKey {
  const key = randomBytes(KEY_BYTES);
  writeFileAtomic(file, key.toString('base64') + '\n', 0o600, false);
  return { id: masterKeyId(key), key, file };
}

export function masterKeyModeWarning(file: string): string | undefined {
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) return `master key file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`;
  } catch {
    /* reported by the read */
  }
  return undefined;
}

/**
 * Writes via a temporary file in the same directory, fsync, then rename: a crash leaves
 * either the old file or the new one, never a half-written key.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number, overwrite = true): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (!overwrite) {
      try {
        statSync(file);
        throw new StartupError('KH_FILE_EXISTS', `${file} already exists`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(tmp, file);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
}
