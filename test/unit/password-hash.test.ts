import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { InvalidInputError } from '../../src/errors.js';
import { hashRaw } from '@node-rs/argon2';
import { MAX_PASSWORD_BYTES, OWASP_ARGON2ID, OWASP_SCRYPT, PasswordHasher } from '../../src/crypto/password-hash.js';

const CHEAP = { logN: 10, r: 8, p: 1 };
const hasher = new PasswordHasher(CHEAP);
const PHC = /^\$scrypt\$ln=10,r=8,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
function phc(password: string, salt: Buffer, keylen: number, logN: number, r: number, p: number): string {
  const key = scryptSync(password, salt, keylen, { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 2 ** 20 });
  return `$scrypt$ln=${logN},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
}

function rejectsWith(code: string) {
  return (err: unknown) => err instanceof InvalidInputError && err.code === code;
}

test('the default is argon2id at OWASP\'s parameters (m=19 MiB, t=2, p=1); scrypt\'s remain OWASP\'s (N=2^17, r=8, p=1)', async () => {
  assert.deepEqual(OWASP_SCRYPT, { logN: 17, r: 8, p: 1 });
  assert.deepEqual(OWASP_ARGON2ID, { memoryKib: 19456, timeCost: 2, parallelism: 1 });
  const h = new PasswordHasher();
  assert.equal(h.algorithm, 'argon2id');
  assert.deepEqual({ ...h.argon2id }, { memoryKib: 19456, timeCost: 2, parallelism: 1 });
  assert.deepEqual({ ...h.params }, { logN: 17, r: 8, p: 1 });
  const stored = await h.hash('correct horse');
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(await h.verify('correct horse', stored), { ok: true, needsRehash: false });
  const scrypt = new PasswordHasher({ algorithm: 'scrypt' });
  assert.match(await scrypt.hash('correct horse'), /^\$scrypt\$ln=17,r=8,p=1\$/);
});

test('hash makes a PHC string with a 16-byte salt and a 32-byte key, fresh salt every time', async () => {
  const a = await hasher.hash('pässwörd');
  const b = await hasher.hash('pässwörd');
  assert.notEqual(a, b);
  for (const s of [a, b]) {
    const m = PHC.exec(s);
    assert.ok(m, s);
    assert.equal(Buffer.from(m[1]!, 'base64').length, 16);
    assert.equal(Buffer.from(m[2]!, 'base64').length, 32);
    assert.equal(m[1]!.length, 22, 'salt: unpadded base64');
    assert.equal(m[2]!.length, 43, 'key: unpadded base64');
  }
});

test('hash is scrypt over the UTF-8 password (checked against an independent computation)', async () => {
  const stored = await hasher.hash('hunter2');
  const m = PHC.exec(stored)!;
  const expected = phc('hunter2', Buffer.from(m[1]!, 'base64'), 32, 10, 8, 1);
  assert.equal(stored, expected);
});

test('verify accepts the right password and refuses a wrong one', async () => {
  const stored = await hasher.hash('s3cret!');
  assert.deepEqual(await hasher.verify('s3cret!', stored), { ok: true, needsRehash: false });
  assert.deepEqual(await hasher.verify('s3cret?', stored), { ok: false, needsRehash: false });
  assert.deepEqual(await hasher.verify('S3cret!', stored), { ok: false, needsRehash: false });
});

test('verify accepts hashes made elsewhere, including a 64-byte key', async () => {
  const salt = Buffer.alloc(16, 7);
  assert.deepEqual(await hasher.verify('pw', phc('pw', salt, 32, 10, 8, 1)), { ok: true, needsRehash: false });
  assert.deepEqual(await hasher.verify('pw', phc('pw', salt, 64, 10, 8, 1)), { ok: true, needsRehash: true });
  assert.deepEqual(await hasher.verify('px', phc('pw', salt, 64, 10, 8, 1)), { ok: false, needsRehash: false });
});

test('passwords are compared after RFC 8265 OpaqueString preparation (NFC, non-ASCII spaces)', async () => {
  const composed = await hasher.hash('caf\u00e9 au lait');
  assert.equal((await hasher.verify('cafe\u0301 au lait', composed)).ok, true);
  const decomposed = await hasher.hash('cafe\u0301');
  assert.equal((await hasher.verify('caf\u00e9', decomposed)).ok, true);
  const nbsp = await hasher.hash('two\u00a0words');
  assert.equal((await hasher.verify('two words', nbsp)).ok, true);
  // Case is not folded.
  assert.equal((await hasher.verify('CAF\u00c9 au lait', composed)).ok, false);
});

test('needsRehash when the stored parameters differ from the current ones, and only when ok', async () => {
  const old = await hasher.hash('upgrade me');
  for (const params of [{ logN: 11, r: 8, p: 1 }, { logN: 10, r: 4, p: 1 }, { logN: 10, r: 8, p: 2 }]) {
    const newer = new PasswordHasher(params);
    assert.deepEqual(await newer.verify('upgrade me', old), { ok: true, needsRehash: true });
    assert.deepEqual(await newer.verify('wrong', old), { ok: false, needsRehash: false });
    const rehashed = await newer.hash('upgrade me');
    assert.deepEqual(await newer.verify('upgrade me', rehashed), { ok: true, needsRehash: false });
  }
  // A short (8-byte) salt is accepted but upgraded.
  assert.deepEqual(await hasher.verify('pw', phc('pw', Buffer.alloc(8, 1), 32, 10, 8, 1)), { ok: true, needsRehash: true });
});

test('parameters above node\'s default 32 MiB maxmem work (64 MiB)', async () => {
  const h = new PasswordHasher({ logN: 16, r: 8, p: 1 });
  const stored = await h.hash('big');
  assert.equal((await h.verify('big', stored)).ok, true);
  // ... and the cheap hasher still verifies it (64 MiB is under the 1 GiB cap for stored hashes).
  assert.deepEqual(await hasher.verify('big', stored), { ok: true, needsRehash: true });
});

test('p > 1 and r = 1 work within bounds', async () => {
  const h = new PasswordHasher({ logN: 10, r: 1, p: 16 });
  const stored = await h.hash('x');
  assert.match(stored, /^\$scrypt\$ln=10,r=1,p=16\$/);
  assert.equal((await h.verify('x', stored)).ok, true);
});

test('empty and over-long passwords are refused with InvalidInputError, in hash, verify and verifyDummy', async () => {
  const stored = await hasher.hash('x');
  const max = 'a'.repeat(MAX_PASSWORD_BYTES);
  assert.equal(MAX_PASSWORD_BYTES, 1024);
  assert.equal((await hasher.verify(max, await hasher.hash(max))).ok, true);
  // 341 three-byte characters = 1023 bytes are fine; 342 = 1026 bytes are not, although only 342 UTF-16 units.
  assert.equal((await hasher.verify('\u20ac'.repeat(341), await hasher.hash('\u20ac'.repeat(341)))).ok, true);
  const tooLong = ['a'.repeat(MAX_PASSWORD_BYTES + 1), '\u20ac'.repeat(342), 'x'.repeat(10_000_000)];
  for (const pw of tooLong) {
    await assert.rejects(hasher.hash(pw), rejectsWith('KH_PASSWORD_TOO_LONG'));
    await assert.rejects(hasher.verify(pw, stored), rejectsWith('KH_PASSWORD_TOO_LONG'));
    await assert.rejects(hasher.verifyDummy(pw), rejectsWith('KH_PASSWORD_TOO_LONG'));
  }
  await assert.rejects(hasher.hash(''), rejectsWith('KH_PASSWORD_EMPTY'));
  await assert.rejects(hasher.verify('', stored), rejectsWith('KH_PASSWORD_EMPTY'));
  await assert.rejects(hasher.verifyDummy(''), rejectsWith('KH_PASSWORD_EMPTY'));
  // The same error for a malformed stored string: the answer does not depend on stored data.
  await assert.rejects(hasher.verify('', 'garbage'), rejectsWith('KH_PASSWORD_EMPTY'));
});

test('control characters, lone surrogates and non-strings are refused', async () => {
  for (const pw of ['tab\there', 'nul\u0000', 'lone \ud800 surrogate', 'lone \udc00']) {
    await assert.rejects(hasher.hash(pw), rejectsWith('KH_PASSWORD_INVALID'), JSON.stringify(pw));
  }
  await assert.rejects(hasher.hash(undefined as unknown as string), rejectsWith('KH_PASSWORD_INVALID'));
  await assert.rejects(hasher.verify(42 as unknown as string, 'x'), rejectsWith('KH_PASSWORD_INVALID'));
  // A well-formed astral character (surrogate pair) is fine.
  const emoji = await hasher.hash('key \u{1f511}');
  assert.equal((await hasher.verify('key \u{1f511}', emoji)).ok, true);
});

test('a malformed or tampered stored string verifies as false and never throws', async () => {
  const good = await hasher.hash('pw');
  const m = PHC.exec(good)!;
  const [salt, key] = [m[1]!, m[2]!];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  // 42 characters leave 4 unused bits in the last one; setting one of them makes the string
  // non-canonical for sure (a plain truncation is canonical by chance one time in sixteen).
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const nonCanonical = key.slice(0, 41) + alphabet[alphabet.indexOf(key[41]!) | 1];
  const bad: unknown[] = [
    '', 'garbage', '$scrypt$', `$scrypt$ln=10,r=8,p=1$${salt}`, `$scrypt$ln=10,r=8,p=1$${salt}$`,
    `$scrypt$ln=10,r=8$${salt}$${key}`, `$scrypt$ln=10,r=8,p=1,x=1$${salt}$${key}`,
    `$scrypt$r=8,ln=10,p=1$${salt}$${key}`, `$argon2id$ln=10,r=8,p=1$${salt}$${key}`,
    `$scrypt$ln=010,r=8,p=1$${salt}$${key}`, `$scrypt$ln=10,r=8,p=1$${salt}==$${key}`,
    `$scrypt$ln=10,r=8,p=1$${salt}$${key}=`, `$scrypt$ln=10,r=8,p=1$${salt.replace(/./, '-')}$${key}`,
    `$scrypt$ln=10,r=8,p=1$${salt}$${key} `, ` ${good}`, `${good}\n`, good.toUpperCase(),
    `$scrypt$ln=10,r=8,p=1$${salt}$${nonCanonical}`, // not canonical base64
    `$scrypt$ln=10,r=8,p=1$${salt}$${b64(Buffer.alloc(8))}`, // key too short
    `$scrypt$ln=10,r=8,p=1$${salt}$${b64(Buffer.alloc(65))}`, // key too long
    `$scrypt$ln=10,r=8,p=1$${b64(Buffer.alloc(4))}$${key}`, // salt too short
    `$scrypt$ln=10,r=8,p=1$${flip(salt)}$${key}`, `$scrypt$ln=10,r=8,p=1$${salt}$${flip(key)}`,
    `$scrypt$ln=11,r=8,p=1$${salt}$${key}`, `$scrypt$ln=10,r=8,p=2$${salt}$${key}`,
    `${good}${'A'.repeat(100_000)}`,
    null, undefined, 42, {}, ['$scrypt$'],
  ];
  for (const stored of bad) {
    assert.deepEqual(await hasher.verify('pw', stored as string), { ok: false, needsRehash: false }, String(stored).slice(0, 80));
  }
});

test('hostile parameters in a stored string are malformed: no huge allocation, no long run', async () => {
  const salt = b64(Buffer.alloc(16));
  const key = b64(Buffer.alloc(32));
  const hostile = [
    'ln=9,r=8,p=1', 'ln=23,r=8,p=1', 'ln=99,r=8,p=1', 'ln=0,r=8,p=1', 'ln=10,r=0,p=1', 'ln=10,r=33,p=1',
    'ln=10,r=8,p=0', 'ln=10,r=8,p=17', 'ln=10,r=99,p=99',
    'ln=16,r=1,p=1', // RFC 7914: N must be < 2^(16r)
    'ln=22,r=32,p=16', 'ln=22,r=8,p=1', 'ln=21,r=8,p=1', // within per-parameter bounds, but 2..16 GiB
  ];
  const started = Date.now();
  for (const params of hostile) {
    assert.deepEqual(await hasher.verify('pw', `$scrypt$${params}$${salt}$${key}`), { ok: false, needsRehash: false }, params);
  }
  assert.ok(Date.now() - started < 5000, 'hostile hashes were not computed');
});

test('verifyDummy returns false after about as much work as a real verify', async () => {
  const h = new PasswordHasher({ logN: 14, r: 8, p: 1 });
  const stored = await h.hash('timing');
  assert.equal(await h.verifyDummy('timing'), false);
  const time = async (fn: () => Promise<unknown>) => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      await fn();
      runs.push(Number(process.hrtime.bigint() - t));
    }
    return runs.sort((a, b) => a - b)[2]!;
  };
  const real = await time(() => h.verify('wrong', stored));
  const dummy = await time(() => h.verifyDummy('wrong'));
  const malformed = await time(() => h.verify('wrong', 'not a hash'));
  assert.ok(dummy > real / 4 && dummy < real * 4, `dummy ${dummy}ns vs real ${real}ns`);
  assert.ok(malformed > real / 4 && malformed < real * 4, `malformed ${malformed}ns vs real ${real}ns`);
});

test('out-of-bounds constructor parameters are refused', () => {
  for (const p of [
    { logN: 9, r: 8, p: 1 }, { logN: 23, r: 8, p: 1 }, { logN: 10.5, r: 8, p: 1 }, { logN: 10, r: 0, p: 1 },
    { logN: 10, r: 33, p: 1 }, { logN: 10, r: 8, p: 0 }, { logN: 10, r: 8, p: 17 }, { logN: 16, r: 1, p: 1 },
    { logN: Number.NaN, r: 8, p: 1 },
  ]) {
    assert.throws(() => new PasswordHasher(p), RangeError, JSON.stringify(p));
  }
  assert.ok(new PasswordHasher({ logN: 22, r: 32, p: 16 }));
});

test('params are frozen copies', () => {
  const params = { logN: 10, r: 8, p: 1 };
  const h = new PasswordHasher(params);
  params.logN = 20;
  assert.equal(h.params.logN, 10);
  assert.ok(Object.isFrozen(h.params));
  assert.ok(Object.isFrozen(OWASP_SCRYPT));
});

test('concurrent hashes and verifies do not interfere', async () => {
  const passwords = Array.from({ length: 8 }, (_, i) => `password-${i}`);
  const stored = await Promise.all(passwords.map((p) => hasher.hash(p)));
  const results = await Promise.all(passwords.map((p, i) => hasher.verify(p, stored[(i + 1) % 8]!)));
  assert.ok(results.every((r) => !r.ok));
  const again = await Promise.all(passwords.map((p, i) => hasher.verify(p, stored[i]!)));
  assert.ok(again.every((r) => r.ok));
});

// ---- argon2id ---------------------------------------------------------------------------

const CHEAP_ARGON2 = { memoryKib: 256, timeCost: 1, parallelism: 1 };
const argon = new PasswordHasher({ algorithm: 'argon2id', argon2id: CHEAP_ARGON2, scrypt: CHEAP });
const ARGON2_PHC = /^\$argon2id\$v=19\$m=256,t=1,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

test('argon2id: a PHC string with a fresh 16-byte salt and a 32-byte key, matching an independent computation', async () => {
  const a = await argon.hash('pässwörd');
  const b = await argon.hash('pässwörd');
  assert.notEqual(a, b);
  const m = ARGON2_PHC.exec(a);
  assert.ok(m, a);
  const salt = Buffer.from(m[1]!, 'base64');
  assert.equal(salt.length, 16);
  // argon2id(m=256 KiB, t=1, p=1) of the NFC UTF-8 password under that salt, by the library's raw API.
  const raw = await hashRaw('pässwörd'.normalize('NFC'), { algorithm: 2, memoryCost: 256, timeCost: 1, parallelism: 1, outputLen: 32, salt });
  assert.equal(m[2], b64(raw));
  assert.deepEqual(await argon.verify('pässwörd', a), { ok: true, needsRehash: false });
  assert.deepEqual(await argon.verify('passwörd', a), { ok: false, needsRehash: false });
});

test('a scrypt hash verifies under argon2id and needs a rehash (upgraded at the next sign-in); a wrong password does not', async () => {
  const old = await hasher.hash('upgrade me');
  assert.deepEqual(await argon.verify('upgrade me', old), { ok: true, needsRehash: true });
  assert.deepEqual(await argon.verify('upgrade mE', old), { ok: false, needsRehash: false });
  // And back: an argon2id hash under a scrypt configuration.
  const made = await argon.hash('downgrade me');
  assert.deepEqual(await hasher.verify('downgrade me', made), { ok: true, needsRehash: true });
});

test('argon2id: a change of m, t or p makes existing hashes need a rehash', async () => {
  const stored = await argon.hash('parameters');
  for (const argon2id of [{ memoryKib: 512, timeCost: 1, parallelism: 1 }, { memoryKib: 256, timeCost: 2, parallelism: 1 }, { memoryKib: 256, timeCost: 1, parallelism: 2 }]) {
    const newer = new PasswordHasher({ algorithm: 'argon2id', argon2id });
    assert.deepEqual(await newer.verify('parameters', stored), { ok: true, needsRehash: true }, JSON.stringify(argon2id));
    assert.deepEqual(await newer.verify('Parameters', stored), { ok: false, needsRehash: false });
  }
});

test('argon2id: malformed, foreign-variant and out-of-bounds stored strings verify false without throwing', async () => {
  const good = await argon.hash('pw');
  const [, , , params, salt, key] = good.split('$');
  const bad = [
    good.replace('$argon2id$', '$argon2i$'),
    good.replace('v=19', 'v=16'),
    `$argon2id$v=19$m=4194304,t=1,p=1$${salt}$${key}`, // 4 GiB: refused before any allocation
    `$argon2id$v=19$m=256,t=99,p=1$${salt}$${key}`,
    `$argon2id$v=19$m=8,t=1,p=2$${salt}$${key}`,
    `$argon2id$v=19$${params}$${salt}$`,
    `$argon2id$v=19$${params}$!!!$${key}`,
    `${good}x`.repeat(3),
  ];
  for (const stored of bad) assert.deepEqual(await argon.verify('pw', stored), { ok: false, needsRehash: false }, stored);
  assert.equal(await argon.verifyDummy('pw'), false);
  assert.throws(() => new PasswordHasher({ argon2id: { memoryKib: 32, timeCost: 1, parallelism: 1 } }), RangeError);
  assert.throws(() => new PasswordHasher({ argon2id: { memoryKib: 256, timeCost: 0, parallelism: 1 } }), RangeError);
});
