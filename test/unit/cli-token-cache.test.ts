// The CLI's token-cache key and sealing (src/cli/token-cache-key.ts): one key however many CLI
// processes create it at once, a 0600 file, entries that open only with their key and login id,
// and no plaintext in what is sealed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CacheUnreadableError, cacheKey, cacheKeyPath, openEntry, sealEntry } from '../../src/cli/token-cache-key.js';

describe('CLI token cache key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-cli-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is created once, 0600, even by concurrent callers; not created when only read', async () => {
    const env = { KEYHAVEN_CONFIG_DIR: join(dir, 'a') };
    assert.equal(await cacheKey(env, false), undefined);
    const keys = await Promise.all(Array.from({ length: 8 }, () => cacheKey(env, true)));
    assert.equal(new Set(keys.map((k) => k!.toString('hex'))).size, 1);
    assert.equal(keys[0]!.length, 32);
    assert.equal(statSync(cacheKeyPath(env.KEYHAVEN_CONFIG_DIR)).mode & 0o777, 0o600);
    assert.deepEqual(await cacheKey(env, false), keys[0]);
  });

  it('refuses a broken key file without showing its content', async () => {
    const env = { KEYHAVEN_CONFIG_DIR: join(dir, 'b') };
    await cacheKey(env, true);
    writeFileSync(cacheKeyPath(env.KEYHAVEN_CONFIG_DIR), 'not-a-key-but-secretish\n');
    await assert.rejects(cacheKey(env, false), (err: unknown) => err instanceof CacheUnreadableError && !String((err as Error).message).includes('secretish'));
  });

  it('seals entries bound to the login id; another key or id opens nothing', async () => {
    const key = Buffer.alloc(32, 7);
    const value = { tokens: [{ resource: 'r', accessToken: 'eyJhbGciOi.secret-token', expiresOn: 1 }], clientSecret: 'client-secret-value' };
    const sealed = sealEntry(key, 'login-a', value);
    assert.ok(!sealed.includes('secret'), 'plaintext in the sealed entry');
    assert.notEqual(sealEntry(key, 'login-a', value), sealed, 'a fresh IV every time');
    assert.deepEqual(openEntry(key, 'login-a', sealed), value);
    assert.equal(openEntry(key, 'login-b', sealed), undefined);
    assert.equal(openEntry(Buffer.alloc(32, 8), 'login-a', sealed), undefined);
    const [f, iv, ct, tag] = sealed.split('.');
    const flipped = `${f}.${iv}.${ct!.slice(0, -2)}${ct!.slice(-2) === 'AA' ? 'AB' : 'AA'}.${tag}`;
    assert.equal(openEntry(key, 'login-a', flipped), undefined);
  });
});
