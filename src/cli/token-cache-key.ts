// The key that seals the CLI's cached credentials (access tokens, refresh tokens, a service
// principal's client secret) in token-cache.json, so the cache never holds a token in plaintext.
//
// Where an OS keyring exists, MSAL's token-cache extensions keep the key (or the cache) there;
// Keyhaven's CLI has no keyring binding (libsecret / Keychain / DPAPI need native modules), so
// the key lives as az's and MSAL's "no keyring" fallback does: a file only the user can read —
// `cache-key` (32 random bytes, base64), 0600 in the 0700 configuration directory, created
// exclusively so two CLI processes never make two keys. Copying or backing up the cache alone
// (or cat-ing it into a log) then reveals nothing; whoever can read the key file can read the
// cache, which is as far as file permissions go without a keyring.
//
// Sealing is AES-256-GCM with a random 96-bit IV (NIST SP 800-38D §8.2.2); the associated data
// binds each sealed entry to its login id, so an entry moved onto another login fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { configDir, ensureConfigDir } from './config-dir.js';

export const CACHE_KEY_FILE = 'cache-key';
const FORMAT = 'khc1';

/** The cache key file's path in `dir`. */
export const cacheKeyPath = (dir: string) => join(dir, CACHE_KEY_FILE);

/** Thrown when the cache cannot be opened (key file lost or replaced, cache altered). */
export class CacheUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheUnreadableError';
  }
}

/** The key, created (0600, exclusively) when `create` and it does not exist yet. */
export async function cacheKey(env: NodeJS.ProcessEnv, create: boolean): Promise<Buffer | undefined> {
  const file = cacheKeyPath(configDir(env));
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const text = (await readFile(file, 'utf8')).trim();
      const key = Buffer.from(text, 'base64');
      if (key.length === 32) return key;
      // Another process is between creating and writing it; anything else is a broken file.
      if (text.length > 0) throw new CacheUnreadableError(`the token cache key ${file} is not a valid key; remove it and log in again`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!create) return undefined;
      await ensureConfigDir(env);
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          const key = randomBytes(32);
          await handle.writeFile(`${key.toString('base64')}\n`, 'utf8');
          await handle.sync();
          return key;
        } finally {
          await handle.close();
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new CacheUnreadableError(`the token cache key ${file} stays empty; remove it and log in again`);
}

export async function removeCacheKey(env: NodeJS.ProcessEnv): Promise<void> {
  await rm(cacheKeyPath(configDir(env)), { force: true });
}

export function sealEntry(key: Buffer, loginId: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${FORMAT}|${loginId}`, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return [FORMAT, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The entry's value, or undefined when it does not open with this key (never its content in a message). */
export function openEntry<T>(key: Buffer, loginId: string, sealed: string): T | undefined {
  const [format, iv, ct, tag] = sealed.split('.');
  if (format !== FORMAT || !iv || !ct || !tag) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${FORMAT}|${loginId}`, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
