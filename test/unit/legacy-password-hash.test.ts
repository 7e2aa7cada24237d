import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import { isLegacyHash, legacyScheme, shaCryptHash, verifyLegacyPassword } from '../../src/crypto/legacy-password-hash.js';
import { PasswordHasher } from '../../src/crypto/password-hash.js';

function ssha(algorithm: 'sha1' | 'sha256' | 'sha512', password: string, salt: Buffer): string {
  const digest = createHash(algorithm).update(password, 'utf8').update(salt).digest();
  const scheme = { sha1: 'SSHA', sha256: 'SSHA256', sha512: 'SSHA512' }[algorithm];
  return `{${scheme}}${Buffer.concat([digest, salt]).toString('base64')}`;
}

const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

async function assertVerifies(stored: string, password: string, scheme: string): Promise<void> {
  assert.equal(legacyScheme(stored), scheme, stored);
  assert.equal(await verifyLegacyPassword(password, stored), true, `${stored} should verify`);
  assert.equal(await verifyLegacyPassword(`${password}x`, stored), false);
  assert.equal(await verifyLegacyPassword(password.slice(1), stored), false);
}

test('{SSHA}, {SSHA256}, {SSHA512}: digest(password ‖ salt) ‖ salt, base64', async () => {
  for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
    for (const saltLength of [4, 8, 16]) {
      const scheme = { sha1: 'SSHA', sha256: 'SSHA256', sha512: 'SSHA512' }[algorithm];
      await assertVerifies(ssha(algorithm, 'pässword 1', randomBytes(saltLength)), 'pässword 1', scheme);
    }
  }
  // slappasswd's documented shape: {SSHA256} of "pass" with salt "foobar".
  await assertVerifies('{SSHA256}Yuz0lZnd9xxLQhxgOSuV8b4GlTzeOWKriq9ay51aoLxmb29iYXI=', 'pass', 'SSHA256');
  // The scheme name ignores case, as slapd's does.
  assert.equal(await verifyLegacyPassword('pass', '{ssha256}Yuz0lZnd9xxLQhxgOSuV8b4GlTzeOWKriq9ay51aoLxmb29iYXI='), true);
});

test('{CRYPT}$5$ and $6$: the test vectors of Drepper\'s SHA-crypt specification', async () => {
  const vectors: [string, string][] = [
    ['$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5', 'Hello world!'],
    ['$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA', 'Hello world!'],
    ['$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1', 'Hello world!'],
    ['$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.', 'Hello world!'],
    ['$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0', 'This is just a test'],
  ];
  for (const [hash, password] of vectors) {
    await assertVerifies(`{CRYPT}${hash}`, password, hash.startsWith('$5$') ? 'CRYPT-SHA256' : 'CRYPT-SHA512');
  }
  // Cross-checked with glibc/libxcrypt crypt(3): a non-ASCII password, a 16-character salt, a long key.
  await assertVerifies('{CRYPT}$6$abcdefgh12345678$jkyqH5AgOwBveBa6w9DAp8oV/x1zkRVJ1ymmGnsJmGYx5WY9H/DrmryKmcbiXyywkwpZmlP7cQzuNfiBuWUJK1', 'pässword x', 'CRYPT-SHA512');
  await assertVerifies('{CRYPT}$5$rounds=1234$xyz$rlODwNdR8MG.TKZnjhJigubXGim5TJePdw7jgeC13L7', 'short', 'CRYPT-SHA256');
  assert.equal(await verifyLegacyPassword('a'.repeat(100), '{CRYPT}$6$q$/pi7IloxRUBzFjeTK3q4OQPFXmuGSod5shpigl4JYcV4j0ycRFxgGUmm/Akhe48ZaEgeoBdl2zhgpIp9yTuUS.'), true);
  assert.equal(shaCryptHash(false, Buffer.from('Hello world!'), Buffer.from('saltstring'), 5000), '5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5');
});

test('{CRYPT}$2a$/$2b$/$2y$: bcrypt (OpenBSD / crypt_blowfish vectors and bcryptjs hashes)', async () => {
  await assertVerifies('{CRYPT}$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*U', 'CRYPT-BCRYPT');
  // Cross-checked with libxcrypt crypt(3).
  assert.equal(await verifyLegacyPassword('x', '{CRYPT}$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e'), true);
  assert.equal(await verifyLegacyPassword('y', '{CRYPT}$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e'), false);
  const made = await bcrypt.hash('bcrypt pässword', 4);
  await assertVerifies(`{CRYPT}${made}`, 'bcrypt pässword', 'CRYPT-BCRYPT');
  await assertVerifies(`{CRYPT}$2y$${made.slice(4)}`, 'bcrypt pässword', 'CRYPT-BCRYPT');
});

test('{PBKDF2-SHA512}: OpenLDAP pw-pbkdf2, iterations$salt$hash in adapted base64', async () => {
  const salt = randomBytes(16);
  const key = pbkdf2Sync('pbkdf2 password', salt, 1000, 64, 'sha512');
  const stored = `{PBKDF2-SHA512}1000$${ab64(salt)}$${ab64(key)}`;
  await assertVerifies(stored, 'pbkdf2 password', 'PBKDF2-SHA512');
  // Adapted base64 uses '.', never '+'.
  assert.equal(legacyScheme(stored.replace(/\./g, '+')), stored.includes('.') ? undefined : 'PBKDF2-SHA512');
});

test('{ARGON2}: a PHC string (the reference implementation\'s vector and @node-rs/argon2 hashes)', async () => {
  await assertVerifies('{ARGON2}$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', 'password', 'ARGON2');
  const made = await argon2Hash('argon pässword', { memoryCost: 1024, timeCost: 1, parallelism: 1 });
  await assertVerifies(`{ARGON2}${made}`, 'argon pässword', 'ARGON2');
});

test('malformed, unknown or out-of-bounds hashes verify false and never throw', async () => {
  const bad = [
    '', '{', '{}', '{SSHA}', '{SSHA}!!!!', '{SSHA}' + Buffer.alloc(20).toString('base64'), '{MD5}X03MO1qnZdYdgyfeuILPmQ==',
    '{CRYPT}abJnggxhB/yWI', '{CRYPT}$1$salt$hash', '{CRYPT}$6$salt$short', '{CRYPT}$6$rounds=999$salt$' + 'a'.repeat(86),
    '{CRYPT}$6$rounds=99999999$salt$' + 'a'.repeat(86), '{CRYPT}$2b$99$' + 'a'.repeat(53), '{CRYPT}$2b$10$short',
    '{PBKDF2-SHA512}0$abcd$efgh', '{PBKDF2-SHA512}1000$a$' + 'b'.repeat(86), '{PBKDF2-SHA512}99999999$abcdefgh$' + 'b'.repeat(86),
    '{ARGON2}$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG',
    '{ARGON2}nonsense', `{SSHA}${'A'.repeat(2000)}`,
  ];
  for (const stored of bad) {
    assert.equal(legacyScheme(stored), undefined, stored);
    assert.equal(await verifyLegacyPassword('password', stored), false, stored);
  }
  assert.equal(isLegacyHash('{SSHA}abc'), true);
  assert.equal(isLegacyHash('$scrypt$ln=10'), false);
});

test('PasswordHasher verifies an imported hash and always asks for a rehash after a match', async () => {
  const hasher = new PasswordHasher({ logN: 10, r: 8, p: 1 });
  const stored = ssha('sha1', 'legacy pw', randomBytes(8));
  assert.deepEqual(await hasher.verify('legacy pw', stored), { ok: true, needsRehash: true });
  assert.deepEqual(await hasher.verify('wrong pw', stored), { ok: false, needsRehash: false });
  assert.deepEqual(await hasher.verify('legacy pw', '{SSHA}garbage'), { ok: false, needsRehash: false });
  // Typed decomposed, hashed composed by the other system (or the other way round): both verify.
  const composed = ssha('sha256', 'caf\u00e9', randomBytes(8));
  assert.equal((await hasher.verify('cafe\u0301', composed)).ok, true);
  const decomposed = ssha('sha256', 'cafe\u0301', randomBytes(8));
  assert.equal((await hasher.verify('cafe\u0301', decomposed)).ok, true);
});
